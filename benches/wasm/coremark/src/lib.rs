//! CoreMark 1.0 (the crates.io `coremark` port) as a wasm guest.
//!
//! `coremark::run` times itself with `std::time::Instant`, which does not exist on
//! `wasm32-unknown-unknown`, so this wrapper drives the same public building blocks the
//! way `coremark`'s own `run`/`iterate` do (2K performance run: seeds 0, 0, 0x66, 2000
//! bytes of data) and leaves the timing to the host.

use coremark::list::core_list_init;
use coremark::matrix::core_init_matrix;
use coremark::state::core_init_state;
use coremark::types::{
    ALL_ALGORITHMS_MASK, CoreResults, LIST_KNOWN_CRC, MATRIX_KNOWN_CRC, NUM_ALGORITHMS, STATE_KNOWN_CRC,
    TOTAL_DATA_SIZE,
};
use coremark::util::crcu16;

/// Index of the 2K performance run in the `*_KNOWN_CRC` tables.
const KNOWN_ID_2K_PERF: usize = 3;

/// Runs `iters` CoreMark iterations of the 2K performance run.
///
/// Returns `crcfinal` in the low 16 bits and, in the high 16 bits, how many of the list,
/// matrix and state CRCs differ from the reference values (0 for a correct run), so a
/// correct result is always `< 0x1_0000`.
#[unsafe(no_mangle)]
pub extern "C" fn run(iters: u32) -> u32 {
    let mut res = CoreResults {
        seed1: 0,
        seed2: 0,
        seed3: 0x66,
        size: TOTAL_DATA_SIZE / NUM_ALGORITHMS,
        execs: ALL_ALGORITHMS_MASK,
        iterations: iters,
        ..Default::default()
    };
    res.list = Some(core_list_init(res.size, res.seed1));
    let combined = (res.seed1 as i32) | ((res.seed2 as i32) << 16);
    core_init_matrix(res.size, combined, &mut res.mat);
    res.state_mem = core_init_state(res.size, res.seed1);

    for i in 0..res.iterations {
        let mut list = res.list.take().expect("list initialized");
        let crc = list.bench(&mut res, 1);
        res.crc = crcu16(crc, res.crc);
        let crc = list.bench(&mut res, -1);
        res.crc = crcu16(crc, res.crc);
        res.list = Some(list);
        if i == 0 {
            res.crclist = res.crc;
        }
    }

    let errors = if iters == 0 {
        0
    } else {
        u32::from(res.crclist != LIST_KNOWN_CRC[KNOWN_ID_2K_PERF])
            + u32::from(res.crcmatrix != MATRIX_KNOWN_CRC[KNOWN_ID_2K_PERF])
            + u32::from(res.crcstate != STATE_KNOWN_CRC[KNOWN_ID_2K_PERF])
    };
    u32::from(res.crc) | (errors << 16)
}
