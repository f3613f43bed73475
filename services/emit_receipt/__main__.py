import sys

from services.common.running import run_service
from services.emit_receipt import SERVICE
from services.emit_receipt.service import serve
from services.emit_receipt.settings import EmitReceiptSettings

sys.exit(run_service(SERVICE, EmitReceiptSettings, serve))
