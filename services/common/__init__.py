"""What the fulfilment services share: named errors, input decoding, SQL storage, running."""
