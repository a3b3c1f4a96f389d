-- The tags a technician gave a memory by hand (`context add --tags`,
-- `context edit --tags`), space-separated, apart from those its text and
-- scope give it: an edit derives those again from the new text and keeps
-- these, even when the old text gave the same word. Always a subset of
-- `tags`. NULL for memories stored before this column (an edit then takes
-- the tags the old text did not give as the hand tags, as before).

ALTER TABLE memories ADD COLUMN hand_tags TEXT;
