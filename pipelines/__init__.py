"""Everything after the response: decoding, cleaning, records and the Parquet dataset."""
