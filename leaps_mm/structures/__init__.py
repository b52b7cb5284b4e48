"""Data records passed between the loop, the metrics and the tools."""
from .job_record import PROBES, JobRecord, RecordLike, as_records

__all__ = ['PROBES', 'JobRecord', 'RecordLike', 'as_records']
