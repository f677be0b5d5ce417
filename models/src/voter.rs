//! Fusing several frames into one decision: N of the last M frames must name the same
//! person (and, when the parallax cue is on, show head motion no flat picture can) before
//! the door acts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::liveness::{ParallaxCue, PARALLAX_MIN_FRAMES};

/// One frame's result for the largest face.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameVote {
    /// Identity matched in this frame, `None` for a stranger or no usable face.
    pub identity: Option<String>,
    pub score: f32,
    pub liveness: f32,
    /// Landmarks of the face, for the parallax cue.
    pub landmarks: Option<[[f32; 2]; 5]>,
}

/// The fused decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Not enough agreeing frames yet.
    Pending,
    /// `votes` of the window agree on `identity`, live.
    Accept {
        identity: String,
        votes: usize,
        score: f32,
    },
    /// Enough frames agree on "nobody we know".
    Reject { votes: usize },
    /// Frames agree on an identity but the liveness evidence is missing.
    Spoof { identity: String },
}

/// Settings of the voter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoterConfig {
    /// Frames that must agree.
    pub needed: usize,
    /// Frames considered (the last M).
    pub window: usize,
    /// Frames older than this are dropped.
    pub max_age: Duration,
    /// Minimum mean single-frame liveness of the agreeing frames.
    pub min_liveness: f32,
    /// Minimum non-planar landmark motion over the agreeing frames, in inter-ocular
    /// distances ([`ParallaxCue::residual`]); 0 disables the parallax cue. When on, a face
    /// is accepted once at least [`PARALLAX_MIN_FRAMES`] agreeing frames show that motion,
    /// and called a spoof only when the whole window agrees without it.
    pub min_parallax: f32,
}

impl Default for VoterConfig {
    fn default() -> Self {
        VoterConfig {
            needed: 3,
            window: 5,
            max_age: Duration::from_secs(2),
            min_liveness: 0.5,
            min_parallax: 0.0,
        }
    }
}

/// N-of-M frame voting within a time window.
#[derive(Debug, Clone)]
pub struct FrameVoter {
    cfg: VoterConfig,
    frames: VecDeque<(Instant, FrameVote)>,
}

impl FrameVoter {
    pub fn new(mut cfg: VoterConfig) -> Self {
        if cfg.min_parallax > 0.0 {
            // The window must hold the frames the cue needs, or no face would ever pass.
            cfg.window = cfg.window.max(PARALLAX_MIN_FRAMES);
        }
        FrameVoter {
            cfg,
            frames: VecDeque::with_capacity(cfg.window + 1),
        }
    }

    /// Forgets all frames (after a decision, or when the person leaves).
    pub fn reset(&mut self) {
        self.frames.clear();
    }

    /// Adds a frame seen at `now` and returns the decision so far.
    pub fn push(&mut self, now: Instant, vote: FrameVote) -> Decision {
        self.frames.push_back((now, vote));
        while self.frames.len() > self.cfg.window.max(1) {
            self.frames.pop_front();
        }
        while let Some((t, _)) = self.frames.front() {
            if now.saturating_duration_since(*t) > self.cfg.max_age {
                self.frames.pop_front();
            } else {
                break;
            }
        }
        self.decide(now)
    }

    fn decide(&self, now: Instant) -> Decision {
        let needed = self.cfg.needed.max(1);
        let mut counts: Vec<(&str, usize)> = Vec::new();
        let mut strangers = 0;
        for (_, v) in &self.frames {
            match &v.identity {
                Some(id) => match counts.iter_mut().find(|(k, _)| *k == id.as_str()) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((id.as_str(), 1)),
                },
                None => strangers += 1,
            }
        }
        if let Some(&(id, votes)) = counts.iter().max_by_key(|(_, c)| *c) {
            if votes >= needed {
                let agreeing: Vec<&FrameVote> = self
                    .frames
                    .iter()
                    .map(|(_, v)| v)
                    .filter(|v| v.identity.as_deref() == Some(id))
                    .collect();
                let n = agreeing.len() as f32;
                let liveness = agreeing.iter().map(|v| v.liveness).sum::<f32>() / n;
                let score = agreeing.iter().map(|v| v.score).sum::<f32>() / n;
                let spoof = Decision::Spoof {
                    identity: id.to_string(),
                };
                if !(liveness >= self.cfg.min_liveness) {
                    return spoof;
                }
                if self.cfg.min_parallax > 0.0 {
                    let mut cue = ParallaxCue::default();
                    agreeing
                        .iter()
                        .filter_map(|v| v.landmarks.as_ref())
                        .for_each(|l| cue.push(l));
                    if !cue.is_three_dimensional(self.cfg.min_parallax) {
                        // A live person may not have moved yet: refuse only once the whole
                        // window agrees and still shows no motion a flat picture could not,
                        // or — on a camera too slow to fill the window within `max_age` —
                        // once enough frames for the cue have shown none for half of it.
                        let in_view_since = self
                            .frames
                            .iter()
                            .find(|(_, v)| v.identity.as_deref() == Some(id))
                            .map_or(now, |(t, _)| *t);
                        let held_still = cue.frames() >= PARALLAX_MIN_FRAMES
                            && now.saturating_duration_since(in_view_since) >= self.cfg.max_age / 2;
                        return if cue.frames() >= self.cfg.window || held_still {
                            spoof
                        } else {
                            Decision::Pending
                        };
                    }
                }
                return Decision::Accept {
                    identity: id.to_string(),
                    votes,
                    score,
                };
            }
        }
        if strangers >= needed {
            return Decision::Reject { votes: strangers };
        }
        Decision::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(id: Option<&str>) -> FrameVote {
        FrameVote {
            identity: id.map(str::to_string),
            score: 0.8,
            liveness: 0.9,
            landmarks: None,
        }
    }

    #[test]
    fn three_of_five_accept() {
        let mut v = FrameVoter::new(VoterConfig::default());
        let t = Instant::now();
        assert_eq!(v.push(t, vote(Some("ana"))), Decision::Pending);
        assert_eq!(v.push(t, vote(None)), Decision::Pending);
        assert_eq!(v.push(t, vote(Some("ana"))), Decision::Pending);
        assert!(
            matches!(v.push(t, vote(Some("ana"))), Decision::Accept { ref identity, votes: 3, .. } if identity == "ana")
        );
    }

    #[test]
    fn disagreeing_frames_do_not_accept() {
        let mut v = FrameVoter::new(VoterConfig::default());
        let t = Instant::now();
        for id in ["a", "b", "a", "b", "c"] {
            assert_eq!(v.push(t, vote(Some(id))), Decision::Pending);
        }
    }

    #[test]
    fn old_frames_expire() {
        let mut v = FrameVoter::new(VoterConfig::default());
        let t = Instant::now();
        v.push(t, vote(Some("a")));
        v.push(t, vote(Some("a")));
        let later = t + Duration::from_secs(5);
        assert_eq!(v.push(later, vote(Some("a"))), Decision::Pending);
    }

    #[test]
    fn strangers_are_rejected_and_flat_faces_flagged() {
        let mut v = FrameVoter::new(VoterConfig::default());
        let t = Instant::now();
        v.push(t, vote(None));
        v.push(t, vote(None));
        assert_eq!(v.push(t, vote(None)), Decision::Reject { votes: 3 });

        let cfg = VoterConfig {
            min_parallax: 0.04,
            ..VoterConfig::default()
        };
        let mut v = FrameVoter::new(cfg);
        let flat = [
            [40.0, 50.0],
            [70.0, 50.0],
            [55.0, 65.0],
            [45.0, 80.0],
            [65.0, 80.0],
        ];
        let mut d = Decision::Pending;
        for i in 0..5 {
            assert_eq!(
                d,
                Decision::Pending,
                "frame {i}: the window is not full yet"
            );
            let mut f = vote(Some("a"));
            f.landmarks = Some(flat);
            d = v.push(t, f);
        }
        assert_eq!(
            d,
            Decision::Spoof {
                identity: "a".into()
            }
        );
    }

    #[test]
    fn a_print_before_a_slow_camera_is_refused_once_held_still_for_half_the_window() {
        let cfg = VoterConfig {
            needed: 3,
            window: 5,
            max_age: Duration::from_secs(2),
            min_parallax: 0.02,
            ..VoterConfig::default()
        };
        let print = |k: f32, dx: f32| FrameVote {
            landmarks: Some(head(8.0, 0.0).map(|[x, y]| [k * x + dx, k * y])),
            ..vote(Some("a"))
        };
        let t = Instant::now();
        let mut v = FrameVoter::new(cfg);
        // Under one frame every 0.4 s the window never holds five frames within 2 s.
        assert_eq!(v.push(t, print(1.0, 0.0)), Decision::Pending);
        let t1 = t + Duration::from_millis(400);
        assert_eq!(v.push(t1, print(1.1, 30.0)), Decision::Pending);
        // Three still frames, but seen for less than half the window: not yet.
        let t2 = t + Duration::from_millis(800);
        assert_eq!(v.push(t2, print(0.9, -20.0)), Decision::Pending);
        let t3 = t + Duration::from_millis(1200);
        assert_eq!(
            v.push(t3, print(1.05, 10.0)),
            Decision::Spoof {
                identity: "a".into()
            }
        );
    }

    /// Landmarks of a head turned `yaw` degrees (orthographic, nose 0.6 eye distances out of
    /// the face plane), 40 px between the eyes, moved by `dx`.
    fn head(yaw: f32, dx: f32) -> [[f32; 2]; 5] {
        let (s, c) = yaw.to_radians().sin_cos();
        [
            [-0.5, 0.0, 0.0],
            [0.5, 0.0, 0.0],
            [0.0, 0.55, 0.6],
            [-0.4, 1.05, 0.05],
            [0.4, 1.05, 0.05],
        ]
        .map(|[x, y, z]| [(c * x + s * z) * 40.0 + 200.0 + dx, y * 40.0 + 150.0])
    }

    #[test]
    fn the_parallax_cue_waits_for_enough_frames_then_tells_a_head_from_a_print() {
        let cfg = VoterConfig {
            needed: 2,
            window: 2,
            min_parallax: 0.02,
            ..VoterConfig::default()
        };
        let t = Instant::now();
        let with = |yaw: f32, dx: f32| FrameVote {
            landmarks: Some(head(yaw, dx)),
            ..vote(Some("a"))
        };
        // A turning head: two frames are not enough for the cue, the third decides.
        let mut v = FrameVoter::new(cfg);
        assert_eq!(v.push(t, with(0.0, 0.0)), Decision::Pending);
        assert_eq!(v.push(t, with(8.0, 0.0)), Decision::Pending);
        assert!(matches!(
            v.push(t, with(16.0, 0.0)),
            Decision::Accept { votes: 3, .. }
        ));
        // A print of that head slid and scaled across the camera: a spoof.
        let mut v = FrameVoter::new(cfg);
        let print = |k: f32, dx: f32| FrameVote {
            landmarks: Some(head(8.0, 0.0).map(|[x, y]| [k * x + dx, k * y])),
            ..vote(Some("a"))
        };
        v.push(t, print(1.0, 0.0));
        v.push(t, print(1.1, 30.0));
        assert_eq!(
            v.push(t, print(0.9, -20.0)),
            Decision::Spoof {
                identity: "a".into()
            }
        );
    }
}
