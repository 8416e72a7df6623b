//! Verification of the chain against itself and against signed checkpoints. Records are
//! fed in position order; the first problem found is reported with its position.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::chain::{GENESIS, StoredRecord, record_hash};
use super::checkpoint::{Checkpoint, Signed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The record's content no longer matches its hash.
    Changed,
    /// Records are missing from the chain.
    Removed,
    /// The record does not follow the one before it: inserted, reordered, or its
    /// predecessor was rewritten together with its hash.
    Inserted,
    /// The chain up to a signed checkpoint is not what was signed.
    CheckpointMismatch,
    /// A checkpoint is not signed by the trusted key.
    BadSignature,
    /// The newest records were cut off: a checkpoint covers records that are not there.
    Truncated,
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
// Not kit's problem document, which has the name `Problem` in every service's document.
#[schema(as = ChainProblem)]
pub struct Problem {
    pub position: i64,
    pub kind: ProblemKind,
    pub detail: String,
}

/// What a verification of the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub valid: bool,
    pub records_checked: u64,
    pub first_position: Option<i64>,
    pub last_position: Option<i64>,
    pub checkpoints_checked: u64,
    pub newest_checkpoint: Option<i64>,
    pub problem: Option<Problem>,
}

pub struct Verifier {
    expected_position: i64,
    expected_prev: Vec<u8>,
    checkpoints: BTreeMap<i64, Checkpoint>,
    checkpoints_checked: u64,
    records_checked: u64,
    first_position: Option<i64>,
    problem: Option<Problem>,
}

impl Verifier {
    /// `start`: the last pruned position and its hash, if a segment was pruned.
    /// `checkpoints`: every checkpoint known, from the database and from outside it.
    pub fn new(
        start: Option<(i64, Vec<u8>)>,
        checkpoints: Vec<Checkpoint>,
        trusted: &VerifyingKey,
    ) -> Self {
        let pruned = start.is_some();
        let (pruned_upto, prev) = start.unwrap_or((0, GENESIS.to_vec()));
        let mut problem = None;
        let mut by_position = BTreeMap::new();
        let mut pruned_segment_signed = !pruned;
        for cp in checkpoints {
            if !cp.is_signed_by(trusted) {
                if problem
                    .as_ref()
                    .is_none_or(|p: &Problem| cp.position < p.position)
                {
                    problem = Some(Problem {
                        position: cp.position,
                        kind: ProblemKind::BadSignature,
                        detail: format!(
                            "the checkpoint at record {} is not signed by the audit key",
                            cp.position
                        ),
                    });
                }
                continue;
            }
            if pruned && cp.position == pruned_upto && cp.hash == hex::encode(&prev) {
                pruned_segment_signed = true;
            }
            if cp.position > pruned_upto {
                by_position.insert(cp.position, cp);
            }
        }
        if !pruned_segment_signed && problem.is_none() {
            problem = Some(Problem {
                position: pruned_upto,
                kind: ProblemKind::CheckpointMismatch,
                detail: format!(
                    "the pruned segment up to record {pruned_upto} is not covered by a signed checkpoint of its hash"
                ),
            });
        }
        Self {
            expected_position: pruned_upto + 1,
            expected_prev: prev,
            checkpoints: by_position,
            checkpoints_checked: 0,
            records_checked: 0,
            first_position: None,
            problem,
        }
    }

    /// Checks the next record; false once a problem was found (later records are moot).
    pub fn feed(&mut self, r: &StoredRecord) -> bool {
        if self
            .problem
            .as_ref()
            .is_some_and(|p| p.position <= r.position)
        {
            return false;
        }
        self.first_position.get_or_insert(r.position);
        self.records_checked += 1;
        if r.position > self.expected_position {
            let last_missing = r.position - 1;
            return self.found(
                self.expected_position,
                ProblemKind::Removed,
                if last_missing == self.expected_position {
                    format!("record {} was removed", self.expected_position)
                } else {
                    format!(
                        "records {}–{last_missing} were removed",
                        self.expected_position
                    )
                },
            );
        }
        let recomputed = record_hash(&r.prev_hash, r);
        if recomputed.as_slice() != r.hash.as_slice() {
            return self.found(
                r.position,
                ProblemKind::Changed,
                format!("record {} was changed", r.position),
            );
        }
        if r.prev_hash != self.expected_prev {
            return self.found(
                r.position,
                ProblemKind::Inserted,
                format!(
                    "record {} does not follow record {}: it was inserted, or record {} was rewritten",
                    r.position,
                    r.position - 1,
                    r.position - 1
                ),
            );
        }
        if let Some(cp) = self.checkpoints.get(&r.position) {
            self.checkpoints_checked += 1;
            if cp.hash != hex::encode(recomputed) {
                return self.found(
                    r.position,
                    ProblemKind::CheckpointMismatch,
                    format!(
                        "the chain up to record {} is not the one signed at {}: a record up to it was changed, removed or inserted",
                        r.position, cp.signed_at
                    ),
                );
            }
        }
        self.expected_prev = recomputed.to_vec();
        self.expected_position = r.position + 1;
        true
    }

    pub fn finish(mut self) -> Report {
        let last = self.expected_position - 1;
        if self.problem.is_none()
            && let Some((&newest, cp)) = self.checkpoints.iter().next_back()
            && newest > last
        {
            let detail = format!(
                "records after {last} were removed: a checkpoint signed at {} covers up to record {newest}",
                cp.signed_at
            );
            self.problem = Some(Problem {
                position: last + 1,
                kind: ProblemKind::Truncated,
                detail,
            });
        }
        Report {
            valid: self.problem.is_none(),
            records_checked: self.records_checked,
            first_position: self.first_position,
            last_position: (self.records_checked > 0).then_some(last),
            checkpoints_checked: self.checkpoints_checked,
            newest_checkpoint: self.checkpoints.keys().next_back().copied(),
            problem: self.problem,
        }
    }

    fn found(&mut self, position: i64, kind: ProblemKind, detail: String) -> bool {
        if self.problem.as_ref().is_none_or(|p| position < p.position) {
            self.problem = Some(Problem {
                position,
                kind,
                detail,
            });
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use ed25519_dalek::SigningKey;

    use super::super::chain::tests::sample;
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn chain(n: i64) -> Vec<StoredRecord> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|p| {
                let mut r = sample(p);
                r.prev_hash = prev.clone();
                r.hash = record_hash(&prev, &r).to_vec();
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(records: &[StoredRecord], checkpoints: Vec<Checkpoint>) -> Report {
        let mut v = Verifier::new(None, checkpoints, &key().verifying_key());
        for r in records {
            if !v.feed(r) {
                break;
            }
        }
        v.finish()
    }

    fn checkpoint_at(records: &[StoredRecord], position: i64) -> Checkpoint {
        let r = &records[(position - 1) as usize];
        Checkpoint::sign(&key(), position, &r.hash, DateTime::UNIX_EPOCH)
    }

    #[test]
    fn an_intact_chain_with_its_checkpoint_is_valid() {
        let records = chain(10);
        let report = verify(&records, vec![checkpoint_at(&records, 10)]);
        assert!(report.valid, "{report:?}");
        assert_eq!(
            (report.records_checked, report.checkpoints_checked),
            (10, 1)
        );
    }

    #[test]
    fn a_changed_record_is_named() {
        let mut records = chain(10);
        records[4].actor_id = Some("intruder".into());
        let p = verify(&records, vec![]).problem.unwrap();
        assert_eq!((p.position, p.kind), (5, ProblemKind::Changed));
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut records = chain(10);
        records.remove(6);
        let p = verify(&records, vec![]).problem.unwrap();
        assert_eq!((p.position, p.kind), (7, ProblemKind::Removed));
    }

    #[test]
    fn a_rewritten_record_with_a_recomputed_hash_breaks_the_link_to_the_next() {
        let mut records = chain(10);
        records[2].body = "{\"rewritten\":true}".into();
        records[2].hash = record_hash(&records[2].prev_hash.clone(), &records[2]).to_vec();
        let p = verify(&records, vec![]).problem.unwrap();
        assert_eq!((p.position, p.kind), (4, ProblemKind::Inserted));
    }

    #[test]
    fn a_whole_chain_recomputed_after_a_change_is_caught_by_the_checkpoint() {
        let original = chain(10);
        let checkpoint = checkpoint_at(&original, 8);
        let mut forged = original.clone();
        forged[1].body = "{\"forged\":true}".into();
        let mut prev = forged[0].hash.clone();
        for r in forged.iter_mut().skip(1) {
            r.prev_hash = prev.clone();
            r.hash = record_hash(&prev, r).to_vec();
            prev = r.hash.clone();
        }
        let p = verify(&forged, vec![checkpoint]).problem.unwrap();
        assert_eq!((p.position, p.kind), (8, ProblemKind::CheckpointMismatch));
    }

    #[test]
    fn cutting_off_the_newest_records_is_caught_by_a_checkpoint_kept_outside() {
        let records = chain(10);
        let checkpoint = checkpoint_at(&records, 10);
        let p = verify(&records[..7], vec![checkpoint]).problem.unwrap();
        assert_eq!((p.position, p.kind), (8, ProblemKind::Truncated));
    }

    #[test]
    fn after_a_prune_the_rest_verifies_from_the_signed_end_of_the_segment() {
        let records = chain(10);
        let end = checkpoint_at(&records, 6);
        let mut v = Verifier::new(
            Some((6, records[5].hash.clone())),
            vec![end],
            &key().verifying_key(),
        );
        for r in &records[6..] {
            assert!(v.feed(r));
        }
        assert!(v.finish().valid);
        let unsigned = Verifier::new(
            Some((6, records[5].hash.clone())),
            vec![],
            &key().verifying_key(),
        )
        .finish();
        assert_eq!(
            unsigned.problem.unwrap().kind,
            ProblemKind::CheckpointMismatch
        );
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_refused() {
        let records = chain(3);
        let forged = Checkpoint::sign(
            &SigningKey::from_bytes(&[1; 32]),
            3,
            &records[2].hash,
            DateTime::UNIX_EPOCH,
        );
        let p = verify(&records, vec![forged]).problem.unwrap();
        assert_eq!((p.position, p.kind), (3, ProblemKind::BadSignature));
    }
}
