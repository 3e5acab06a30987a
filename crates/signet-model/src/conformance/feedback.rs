//! Checks of the agent feedback on session memories (`record_feedback`).

use super::support::{T0, insert, memory};
use super::{Fixtures, MaintenanceStore};
use crate::MemoryStore;

/// Each rating moves the session's row to the running mean of the ratings it took and counts
/// it; a memory the session was never given, or another session's row, records nothing.
pub fn feedback_is_a_running_mean_on_the_sessions_rows(
    store: &dyn MemoryStore,
    _: &dyn MaintenanceStore,
    fixtures: &dyn Fixtures,
) {
    for id in ["m1", "m2"] {
        insert(store, memory(id, &format!("given memory {id}")));
        fixtures.give_session_memory("s1", id, T0);
    }
    fixtures.give_session_memory("s2", "m1", T0);
    let rate = |ratings: &[(&str, f64)]| {
        let owned: Vec<(String, f64)> = ratings.iter().map(|(i, v)| ((*i).into(), *v)).collect();
        store
            .record_feedback("s1", &owned)
            .expect("record_feedback")
    };
    assert_eq!(fixtures.session_feedback("s1", "m1"), Some((None, 0)));
    assert_eq!(rate(&[("m1", 1.0), ("m2", -0.5), ("never-given", 1.0)]), 2);
    assert_eq!(rate(&[("m1", 0.0)]), 1);
    assert_eq!(rate(&[("m1", 0.5)]), 1);
    assert_eq!(fixtures.session_feedback("s1", "m1"), Some((Some(0.5), 3)));
    assert_eq!(fixtures.session_feedback("s1", "m2"), Some((Some(-0.5), 1)));
    assert_eq!(fixtures.session_feedback("s2", "m1"), Some((None, 0)));
    assert_eq!(fixtures.session_feedback("s1", "never-given"), None);
    assert_eq!(rate(&[]), 0);
}
