-- The cipher password of an electronic case's encrypted letter, sealed to delivery's own
-- key (never open), drawn when the case arrives and kept until its SMS has gone: a crash
-- between the e-mail and the SMS then leads to that SMS, not to a second letter with a
-- new password. Wiped with the sealed credentials when the case ends.
ALTER TABLE deliveries ADD COLUMN sealed_cipher bytea;

ALTER TABLE deliveries ADD CONSTRAINT deliveries_no_sealed_cipher_when_done
    CHECK (status IN ('pending', 'mail_sent') OR sealed_cipher IS NULL);
