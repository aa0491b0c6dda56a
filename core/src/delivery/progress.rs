//! What the desk sees while a code is being delivered, email or SMS: each try as it starts,
//! each pause before another try, and the outcome. Never the code, never the full contact.
//!
//! As JSON (`{"state": …}`), for the window:
//! - `{"state":"sending","attempt":1}` before each try;
//! - `{"state":"retrying","attempt":1,"delay_ms":2000,"class":"transient","hint":"…"}` after a
//!   try that may pass later, before the pause (`attempt` is the try that failed);
//! - `{"state":"sent","attempt":2}` or `{"state":"failed","attempt":1,"class":"…","hint":"…"}`
//!   at the end.

use serde::Serialize;

use super::FailureClass;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Progress {
    Sending {
        attempt: u32,
    },
    Retrying {
        attempt: u32,
        delay_ms: u64,
        class: FailureClass,
        hint: &'static str,
    },
    Sent {
        attempt: u32,
    },
    Failed {
        attempt: u32,
        class: FailureClass,
        hint: &'static str,
    },
}

/// Something that wants to hear about a send as it happens (the desk's window).
pub type Observer<'a> = &'a dyn Fn(&Progress);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Channel;

    #[test]
    fn progress_reads_as_the_window_expects() {
        let class = FailureClass::RateLimited;
        let retry = Progress::Retrying {
            attempt: 1,
            delay_ms: 2000,
            class,
            hint: class.hint_for(Channel::Sms),
        };
        let v = serde_json::to_value(&retry).unwrap();
        assert_eq!(v["state"], "retrying");
        assert_eq!(v["class"], "rate_limited");
        assert_eq!(v["delay_ms"], 2000);
        assert!(v["hint"].as_str().unwrap().contains("Twilio"));
        assert_eq!(
            serde_json::to_string(&Progress::Sending { attempt: 1 }).unwrap(),
            r#"{"state":"sending","attempt":1}"#
        );
    }
}
