"""stepstream: order fulfilment as an event-sourced saga over Amazon States Language."""
