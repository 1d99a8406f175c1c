//! The check of finished ops that the handlers' unchecked accesses rely on.
//!
//! [`verify`] runs over the ops of a function after lowering, with the [`Fam`] each op was
//! made from, whose [`Kind`]s say what the handler does with each field. It is the one
//! place where what the handlers take for granted (see the `# Safety` section of the
//! [`threaded`](crate::exec::threaded) docs) is established.

use crate::exec::threaded::{Fam, Kind, Op};
use std::fmt;

/// Why ops failed verification: the op's index, its field (`a` to `d`, or `-` for the op
/// as a whole) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) op: usize,
    pub(crate) field: char,
    pub(crate) what: &'static str,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (op {}, field {})", self.what, self.op, self.field)
    }
}

/// Checks that the handlers of `ops` (made from `fams`, one each) stay inside a frame of
/// `frame_slots` slots and inside `ops`: every slot field below `frame_slots` (a frame
/// base at most `frame_slots`, a tail call's arguments inside it, a range of three slots below it), every relative target
/// and every fall-through an op of `ops`, every `br_table` followed by its arms inside
/// `ops` (each arm's field `a` a relative target), and the last op the sentinel, which
/// stops.
///
/// # Errors
///
/// The first field that breaks one of these rules.
pub(crate) fn verify(ops: &[Op], fams: &[Fam], frame_slots: u32) -> Result<(), Invalid> {
    let bad = |op: usize, field: char, what: &'static str| Err(Invalid { op, field, what });
    if ops.len() != fams.len() {
        return bad(ops.len().min(fams.len()), '-', "ops and their families differ in number");
    }
    let Some(last) = fams.last() else {
        return bad(0, '-', "no ops");
    };
    if last.ops[0] != Kind::E {
        return bad(ops.len() - 1, '-', "the last op is not the sentinel");
    }
    let n = ops.len() as i64;
    // Whether the op `delta` after op `k` is in the array.
    let inside = |k: usize, delta: i64| (0..n).contains(&(k as i64 + delta));
    for (k, (op, fam)) in ops.iter().zip(fams).enumerate() {
        let fields = [('a', op.a), ('b', op.b), ('c', op.c), ('d', op.d)];
        for (&(name, v), kind) in fields.iter().zip(fam.ops) {
            match kind {
                Kind::I => {}
                Kind::E if k + 1 == ops.len() => {}
                Kind::E => return bad(k, name, "a sentinel before the end"),
                Kind::S if v < frame_slots => {}
                Kind::S => return bad(k, name, "slot out of the frame"),
                Kind::F if v <= frame_slots => {}
                Kind::F => return bad(k, name, "call frame out of the frame"),
                Kind::P if op.b.checked_add(v).is_some_and(|end| end <= frame_slots) => {}
                Kind::P => return bad(k, name, "tail-call arguments out of the frame"),
                Kind::R3 if v.checked_add(2).is_some_and(|last| last < frame_slots) => {}
                Kind::R3 => return bad(k, name, "slot range out of the frame"),
                Kind::T if inside(k, i64::from(v as i32)) => {}
                Kind::T => return bad(k, name, "branch target out of the function"),
                Kind::N => {
                    // The arms are the ops `k + 1 ..= k + 1 + v`, before the sentinel.
                    if k as i64 + 1 + i64::from(v) >= n - 1 {
                        return bad(k, name, "br_table arms past the end");
                    }
                    for (arm, arm_op) in ops.iter().enumerate().skip(k + 1).take(v as usize + 1) {
                        if !inside(arm, i64::from(arm_op.a as i32)) {
                            return bad(arm, 'a', "br_table arm target out of the function");
                        }
                    }
                }
            }
        }
        if fam.next != 0 && !inside(k, i64::from(fam.next)) {
            return bad(k, '-', "falls through past the end");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::threaded::{BR, COPY, I32_ADD, MEMORY_COPY, SENTINEL};

    fn op(f: &Fam, a: u32, b: u32, c: u32, d: u32) -> Op {
        Op { h: f.v[0], a, b, c, d }
    }

    /// A function of 4 slots: `slot 0 = slot 1 + slot 2`, a copy, a jump back to the
    /// start, a `memory.copy` of slots 1..4, and the sentinel.
    fn sample() -> (Vec<Op>, Vec<Fam>) {
        let fams = vec![I32_ADD, COPY, BR, MEMORY_COPY, SENTINEL];
        let ops = vec![
            op(&fams[0], 0, 1, 2, 0),
            op(&fams[1], 3, 0, 0, 0),
            op(&fams[2], (-2i32) as u32, 0, 0, 0),
            op(&fams[3], 1, 0, 0, 0),
            op(&fams[4], 0, 0, 0, 0),
        ];
        (ops, fams)
    }

    #[test]
    fn accepts_valid_ops() {
        let (ops, fams) = sample();
        assert_eq!(verify(&ops, &fams, 4), Ok(()));
    }

    #[test]
    fn rejects_a_slot_out_of_the_frame() {
        let (mut ops, fams) = sample();
        ops[0].c = 4;
        let e = verify(&ops, &fams, 4).unwrap_err();
        assert_eq!((e.op, e.field, e.what), (0, 'c', "slot out of the frame"));
    }

    #[test]
    fn rejects_a_slot_range_out_of_the_frame() {
        let (mut ops, fams) = sample();
        ops[3].a = 2;
        assert_eq!(verify(&ops, &fams, 4).unwrap_err().what, "slot range out of the frame");
    }

    #[test]
    fn rejects_a_target_out_of_range() {
        let (mut ops, fams) = sample();
        ops[2].a = (-3i32) as u32;
        assert_eq!(verify(&ops, &fams, 4).unwrap_err().what, "branch target out of the function");
        ops[2].a = 3;
        assert_eq!(verify(&ops, &fams, 4).unwrap_err().what, "branch target out of the function");
    }

    #[test]
    fn rejects_a_missing_sentinel() {
        let (mut ops, mut fams) = sample();
        ops.pop();
        fams.pop();
        assert_eq!(verify(&ops, &fams, 4).unwrap_err().what, "the last op is not the sentinel");
    }

    #[test]
    fn rejects_a_sentinel_before_the_end() {
        let (mut ops, mut fams) = sample();
        ops[1] = op(&SENTINEL, 0, 0, 0, 0);
        fams[1] = SENTINEL;
        assert_eq!(verify(&ops, &fams, 4).unwrap_err().what, "a sentinel before the end");
    }

    #[test]
    fn rejects_a_fall_through_past_the_end() {
        let (mut ops, mut fams) = sample();
        // The copy as the last op but one, its fall-through the sentinel: fine; with the
        // sentinel gone and replaced by a copy, the copy falls out of the array.
        ops[4] = op(&COPY, 0, 1, 0, 0);
        fams[4] = COPY;
        assert!(verify(&ops, &fams, 4).is_err());
    }

    /// The handlers of typed function references have their slot and frame fields checked:
    /// the reference's slot, the callee's frame base and a tail call's arguments.
    #[test]
    fn checks_the_fields_of_function_reference_ops() {
        use crate::exec::threaded::{CALL_REF, REF_AS_NON_NULL, RETURN_CALL_REF};
        // The op in a function of 4 slots, then the sentinel.
        let check = |f: Fam, a: u32, b: u32, c: u32| {
            let ops = vec![op(&f, a, b, c, 0), op(&SENTINEL, 0, 0, 0, 0)];
            verify(&ops, &[f, SENTINEL], 4).map_err(|e| (e.field, e.what))
        };
        assert_eq!(check(CALL_REF, 3, 4, 0), Ok(()));
        assert_eq!(check(CALL_REF, 4, 0, 0), Err(('a', "slot out of the frame")));
        assert_eq!(check(CALL_REF, 0, 5, 0), Err(('b', "call frame out of the frame")));
        assert_eq!(check(RETURN_CALL_REF, 3, 2, 2), Ok(()));
        assert_eq!(check(RETURN_CALL_REF, 3, 2, 3), Err(('c', "tail-call arguments out of the frame")));
        assert_eq!(check(REF_AS_NON_NULL, 3, 0, 0), Ok(()));
        assert_eq!(check(REF_AS_NON_NULL, 4, 0, 0), Err(('a', "slot out of the frame")));
    }

    /// The wide-arithmetic handlers touch four slots each, every one a field of its own:
    /// each is checked.
    #[test]
    fn checks_every_slot_of_the_wide_arithmetic_ops() {
        use crate::exec::threaded::{I64_ADD128, I64_MUL_WIDE_S, I64_MUL_WIDE_U, I64_SUB128};
        for f in [I64_ADD128, I64_SUB128, I64_MUL_WIDE_S, I64_MUL_WIDE_U] {
            let check = |a: u32, b: u32, c: u32, d: u32| {
                let ops = vec![op(&f, a, b, c, d), op(&SENTINEL, 0, 0, 0, 0)];
                verify(&ops, &[f, SENTINEL], 4).map_err(|e| (e.field, e.what))
            };
            assert_eq!(check(0, 1, 2, 3), Ok(()));
            assert_eq!(check(4, 1, 2, 3), Err(('a', "slot out of the frame")));
            assert_eq!(check(0, 4, 2, 3), Err(('b', "slot out of the frame")));
            assert_eq!(check(0, 1, 4, 3), Err(('c', "slot out of the frame")));
            assert_eq!(check(0, 1, 2, 4), Err(('d', "slot out of the frame")));
        }
    }

    /// Every function of CoreMark lowers, so passes verification.
    #[test]
    #[cfg_attr(miri, ignore = "reads a file; lowering is covered by the other tests")]
    fn every_lowered_function_verifies() {
        let engine = crate::Engine::default();
        let bytes = std::fs::read("benches/wasm/coremark.wasm").unwrap();
        let module = crate::Module::new(&engine, &bytes).unwrap();
        for f in module.translated_funcs().into_iter() {
            let lowered: Vec<Op> = crate::exec::lower::lower_with_acc(f, &module.inner, None)
                .unwrap()
                .into_iter()
                .map(|(op, _)| op)
                .collect();
            assert_eq!(lowered.len(), f.ops.len());
        }
    }
}
