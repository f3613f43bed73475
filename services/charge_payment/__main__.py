import sys

from services.charge_payment import SERVICE
from services.charge_payment.service import serve
from services.charge_payment.settings import ChargePaymentSettings
from services.common.running import run_service

sys.exit(run_service(SERVICE, ChargePaymentSettings, serve))
