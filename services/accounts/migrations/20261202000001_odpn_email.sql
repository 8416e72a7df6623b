-- The institution's address registered in ODPN: the only address from which a director
-- may e-mail a PZO-01 request.
ALTER TABLE institutions ADD COLUMN odpn_email text;
