"""The embedded Kafka-compatible broker, and topic administration for any broker."""

from stepstream.broker.admin import BrokerError, TopicSpec, broker_answers, ensure_topics
from stepstream.broker.embedded import EmbeddedBroker

__all__ = ["BrokerError", "EmbeddedBroker", "TopicSpec", "broker_answers", "ensure_topics"]
