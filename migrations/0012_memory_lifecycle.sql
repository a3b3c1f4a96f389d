-- The lifecycle of a memory. A memory restated by a newer one is superseded:
-- `superseded_by` names its successor (no foreign key: the successor may
-- arrive later through team sync, or be forgotten), and recall and the
-- SessionStart briefing leave it out while search still finds it. A pinned
-- memory is part of its project's SessionStart briefing. `updated_at` is the
-- time of the last edit. All of them sync with the memory.

ALTER TABLE memories ADD COLUMN superseded_by TEXT;
ALTER TABLE memories ADD COLUMN superseded_at INTEGER;
ALTER TABLE memories ADD COLUMN pinned_at INTEGER;
ALTER TABLE memories ADD COLUMN updated_at INTEGER;

CREATE INDEX memories_superseded_by ON memories(superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX memories_pinned ON memories(project_id) WHERE pinned_at IS NOT NULL;
