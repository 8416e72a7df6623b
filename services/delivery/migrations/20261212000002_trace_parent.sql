-- The trace of the credentials a case came with (W3C traceparent): the dispatch, its e-mail
-- and its SMS are spans of that trace, however much later and on whichever replica.
ALTER TABLE deliveries ADD COLUMN trace_parent text;
