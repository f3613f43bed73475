import sys

from services.common.running import run_service
from services.reserve_stock import SERVICE
from services.reserve_stock.service import serve
from services.reserve_stock.settings import ReserveStockSettings

sys.exit(run_service(SERVICE, ReserveStockSettings, serve))
