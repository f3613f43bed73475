"""Messages on the wire: the envelope, topic names, task contracts, and the bus ports.

The Kafka adapter lives in ``stepstream.messaging.kafka`` and is not imported here, so
code that only speaks the ports does not load a Kafka client.
"""

from stepstream.messaging.bus import (
    Bus,
    CommitFailed,
    ManagedPublisher,
    ManagedSubscriber,
    Outgoing,
    Publisher,
    Record,
    Subscriber,
)
from stepstream.messaging.consumer import Consumer, consume
from stepstream.messaging.contracts import (
    TaskCommand,
    TaskFailedReply,
    TaskHeartbeatReply,
    TaskReply,
    TaskSucceededReply,
    command_envelope,
    parse_command,
    parse_reply,
    reply_envelope,
)
from stepstream.messaging.dead_letter import DeadLetter, PoisonMessage
from stepstream.messaging.envelope import (
    DEFAULT_MAX_BYTES,
    Envelope,
    MalformedMessage,
    MessageTooLarge,
    decode,
    encode,
)
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.topics import Topics

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Bus",
    "CommitFailed",
    "Consumer",
    "DeadLetter",
    "Envelope",
    "FakeBus",
    "MalformedMessage",
    "ManagedPublisher",
    "ManagedSubscriber",
    "MessageTooLarge",
    "Outgoing",
    "PoisonMessage",
    "Publisher",
    "Record",
    "Subscriber",
    "TaskCommand",
    "TaskFailedReply",
    "TaskHeartbeatReply",
    "TaskReply",
    "TaskSucceededReply",
    "Topics",
    "command_envelope",
    "consume",
    "decode",
    "encode",
    "parse_command",
    "parse_reply",
    "reply_envelope",
]
