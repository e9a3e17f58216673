-- Personal data an earlier build wrote in clear in a visit still open (draft): the person in
-- charge's phone and ID number, and table cells with an ID-number or phone column. Sealed at
-- the first open after this migration through the normal, audited write path
-- (inspector.pii.seal_existing_drafts); finished visits keep what their signed audit chain holds.
SELECT 1;
