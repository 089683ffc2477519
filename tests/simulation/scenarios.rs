//! Named scenarios, each a hand-written schedule run in the simulated world.
