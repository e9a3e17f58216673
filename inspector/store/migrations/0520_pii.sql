-- Trainees' personal data sealed at rest (inspector/pii.py): name, id_number and phone hold
-- "enc1:<base64>" ciphertext; these masked copies are what screens, CLI and documents show.
-- Rows written in plaintext before this migration are sealed in Python when the store opens
-- (SQL cannot encrypt): see Store.__init__ → pii.seal_existing.
ALTER TABLE trainee_checks ADD COLUMN name_masked TEXT;
ALTER TABLE trainee_checks ADD COLUMN id_masked TEXT;
ALTER TABLE trainee_checks ADD COLUMN phone_masked TEXT;
