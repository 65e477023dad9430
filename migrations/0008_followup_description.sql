-- The description of a follow-up (iCalendar DESCRIPTION), written in the
-- follow-up dialog; empty when there is none.
ALTER TABLE appointments ADD COLUMN description TEXT NOT NULL DEFAULT '';
