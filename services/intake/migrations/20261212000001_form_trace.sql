-- The trace of the form that opened the case (W3C traceparent): the realisation, a trace of
-- its own (the administrator's request), links to it.
ALTER TABLE cases ADD COLUMN form_trace_parent text;
