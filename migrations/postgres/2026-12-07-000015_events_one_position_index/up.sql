-- C4: an event's insert with two index entries fewer (bench/results/
-- issue-14.md, 2026-12-07): one index for both of `position`'s readers in
-- place of two partial ones, and no primary key on `seq`.
--
-- The sequencer asks for the unnumbered events in insert order (`position
-- IS NULL`, by `seq`), the feed, the relay and the purge for numbered ones
-- by position. A B-tree on `(position, seq)` serves all of them: its nulls
-- sort together, last, in `seq` order, so the sequencer reads them in order
-- from the index (`ORDER BY position, seq`) and finds each again by
-- `position IS NULL AND seq = …` when it numbers it; `max(position)` and
-- `position > $after` skip them. The two partial indexes each evaluated
-- their predicate on every insert, and cost it more than one plain index
-- does: pgbench on the event's insert alone, 84.5 µs of CPU a statement
-- with them, 72.3 with this one, 67.3 without the key on `seq` as well.
--
-- `seq`'s key served only the sequencer's update, which this index now
-- serves; nothing else looks an event up by `seq`. The index is not
-- unique: a position is still given once, by the sequencer alone, under
-- its advisory lock (persistence::events::sequence), and the feed's tests
-- check that the positions run without a gap or a repeat. (A table without
-- a primary key cannot be published for logical replication's updates
-- unless it is given `REPLICA IDENTITY FULL`; see the README.)
--
-- Built under the migration's lock: on a large feed, writes wait.
DROP INDEX events_unsequenced_idx;
DROP INDEX events_position_key;
ALTER TABLE events DROP CONSTRAINT events_pkey;
CREATE INDEX events_position_idx ON events (position, seq);
