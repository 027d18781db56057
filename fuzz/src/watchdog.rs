//! A watchdog thread that interrupts a wdb store whose deadline passed: the
//! safety net for generated and mutated code that loops forever in wdb.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Slot = Arc<Mutex<Option<(Instant, wdb::InterruptHandle)>>>;

/// Interrupts the store armed last once its deadline passes.
pub struct Watchdog {
    slot: Slot,
}

impl Default for Watchdog {
    fn default() -> Watchdog {
        Watchdog::new()
    }
}

impl Watchdog {
    /// Starts the thread; it ends when the watchdog is dropped.
    pub fn new() -> Watchdog {
        let slot: Slot = Arc::new(Mutex::new(None));
        let weak = Arc::downgrade(&slot);
        std::thread::spawn(move || {
            while let Some(slot) = weak.upgrade() {
                {
                    let mut s = slot.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some((deadline, h)) = s.as_ref() {
                        if Instant::now() > *deadline {
                            h.interrupt();
                            *s = None;
                        }
                    }
                }
                drop(slot);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Watchdog { slot }
    }

    pub fn arm(&self, h: wdb::InterruptHandle, after: Duration) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now() + after, h));
    }

    pub fn disarm(&self) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
