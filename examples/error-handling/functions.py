"""MockAPIFunction: stands in for a REST API, answering with the status code it is given."""


class TooManyRequestsException(Exception):
    pass


class ServerUnavailableException(Exception):
    pass


class UnknownException(Exception):
    pass


def MockAPIFunction(event, context):
    statuscode = event["statuscode"]
    if statuscode == "429":
        raise TooManyRequestsException("429 Too Many Requests")
    if statuscode == "503":
        raise ServerUnavailableException("503 Server Unavailable")
    if statuscode == "200":
        return "200 OK"
    raise UnknownException("Unknown error")
