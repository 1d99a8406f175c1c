//! The accumulator data flow: which slot the accumulators hold when each op starts.

use super::Low;

/// What the accumulators hold when each op starts, by forward data flow to a fixed point:
/// `Some(Some((slot, is_f64)))` if they hold `slot` on every path to the op (`is_f64`: the
/// float accumulator holds it too), `Some(None)` if nothing is known, `None` for ops no
/// path reaches. An op passes on its result, or what it was given if it
/// [keeps](Fam::keeps) the accumulators, or nothing; to the op after what it covers if it
/// `falls` through, and to where it jumps (`jumps`). An edge too many only loses
/// information; one missing would be wrong. `entries` start with nothing known.
#[allow(clippy::type_complexity)]
pub(crate) fn accumulator_flow(
    ops: &[Low],
    covers: &[usize],
    falls: &[bool],
    entries: &[bool],
    jumps: &[(usize, usize)],
) -> Vec<Option<Option<(u32, bool)>>> {
    let n = ops.len();
    let mut state: Vec<Option<Option<(u32, bool)>>> =
        entries.iter().map(|&e| if e { Some(None) } else { None }).collect();
    let out = |k: usize, given: Option<(u32, bool)>| {
        let low = &ops[k];
        if low.f.keeps { given } else { low.field(low.f.out).map(|x| (x, low.f.out_f64)) }
    };
    // Meets what `to` is given with what it already had; whether that changed anything.
    let meet = |state: &mut [Option<Option<(u32, bool)>>], to: usize, v: Option<(u32, bool)>| {
        let new = Some(match state[to] {
            None => v,
            Some(prev) => prev.filter(|_| prev == v),
        });
        let changed = state[to] != new;
        state[to] = new;
        changed
    };
    // Each value only moves down from unreached to a slot to nothing, so this ends. The
    // jumps are in order of their sources, so one pass in op order follows every forward
    // edge after its source is final; only loops take another pass.
    debug_assert!(jumps.windows(2).all(|w| w[0].0 <= w[1].0));
    loop {
        let mut changed = false;
        let mut next_jump = 0;
        for k in 0..n {
            let given = state[k];
            if let Some(given) = given
                && falls[k]
                && let Some(j) = k.checked_add(covers[k]).filter(|&j| j < n)
            {
                changed |= meet(&mut state, j, out(k, given));
            }
            while let Some(&(from, to)) = jumps.get(next_jump).filter(|&&(from, _)| from == k) {
                if let Some(given) = given {
                    changed |= meet(&mut state, to, out(from, given));
                }
                next_jump += 1;
            }
        }
        if !changed {
            return state;
        }
    }
}

#[cfg(test)]
mod flow_tests {
    use crate::exec::ir::Instr;

    /// The lowered ops of the module's function 0, with the slot each takes from the
    /// accumulators.
    fn lowered(wat: &str) -> (Vec<Instr>, Vec<Option<u32>>) {
        let engine = crate::Engine::default();
        let module = crate::Module::new(&engine, wat).unwrap();
        let f = module.translated_funcs()[0];
        let acc =
            crate::exec::lower::lower_with_acc(f, &module.inner, None).unwrap().into_iter().map(|(_, a)| a).collect();
        (f.code.to_vec(), acc)
    }

    /// A value a loop computes last and its head uses first stays in the accumulators
    /// round the back edge (through the compare-and-branch, which passes them on), when
    /// the path into the loop leaves the same slot there.
    #[test]
    fn loop_carried_value_stays_in_the_accumulators() {
        let (code, acc) = lowered(
            r#"(module (memory 1)
                 (func (param $i i32) (param $n i32) (local $j i32)
                   (local.set $j (i32.mul (local.get $i) (local.get $i)))
                   (br_if 0 (i32.ge_u (local.get $j) (local.get $n)))
                   (loop $l
                     (i32.store8 (local.get $j) (i32.const 1))
                     (local.set $j (i32.add (local.get $j) (local.get $i)))
                     (br_if $l (i32.lt_u (local.get $j) (local.get $n))))))"#,
        );
        let j = 2;
        let store = code.iter().position(|c| matches!(c, Instr::Const32 { val: 1, .. })).unwrap();
        let add = code.iter().position(|c| matches!(c, Instr::I32Add { .. })).unwrap();
        assert_eq!(acc[store], Some(j), "loop head (the store): {code:?} {acc:?}");
        assert_eq!(acc[add], Some(j), "the add after the store: {code:?} {acc:?}");
    }

    /// A loop head entered with another value in the accumulators than the back edge
    /// leaves there takes nothing from them.
    #[test]
    fn disagreeing_paths_take_nothing() {
        let (code, acc) = lowered(
            r#"(module
                 (func (param $x i32) (param $y i32) (result i32)
                   (local.set $y (i32.mul (local.get $y) (local.get $y)))
                   (loop $l
                     (local.set $x (i32.add (local.get $x) (i32.const 3)))
                     (local.set $y (i32.sub (local.get $y) (local.get $x)))
                     (br_if $l (i32.gt_s (local.get $y) (i32.const 0))))
                   (local.get $x)))"#,
        );
        let head = code.iter().position(|c| matches!(c, Instr::I32AddImm { .. } | Instr::Const32 { val: 3, .. }));
        assert_eq!(acc[head.unwrap()], None, "{code:?} {acc:?}");
    }
}
