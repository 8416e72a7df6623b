-- accounts' answer to "may this requester ask for this account": a case enters the
-- administrators' queue only once verified; a refused one is rejected with the reason.
ALTER TABLE cases ADD COLUMN verified_at timestamptz;
ALTER TABLE cases ADD COLUMN rejection jsonb;
