//! The till's days: opened with a float, closed with the counted cash; the X report mid-day
//! and the Z report, kept unchanged once the day is closed.
