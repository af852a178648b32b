"""The store: immutable Parquet files plus a manifest, queried through Ibis."""
