import sys

from services.book_shipment import SERVICE
from services.book_shipment.service import serve
from services.book_shipment.settings import BookShipmentSettings
from services.common.running import run_service

sys.exit(run_service(SERVICE, BookShipmentSettings, serve))
