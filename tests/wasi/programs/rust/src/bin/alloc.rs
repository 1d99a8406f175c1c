//! Allocates and frees a lot, so that linear memory grows (memory.grow), and checks the
//! data it wrote.
use std::collections::BTreeMap;

fn main() {
    let mut checksum: u64 = 0;
    let mut peak = 0usize;
    for round in 0..8u64 {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        for i in 0..32u64 {
            let len = 64 * 1024 + (i as usize * 4099) % 30_000;
            let mut block = vec![0u8; len];
            let fill = (round * 31 + i) as u8;
            block.iter_mut().step_by(251).for_each(|b| *b = fill);
            blocks.push(block);
        }
        peak = peak.max(blocks.iter().map(Vec::len).sum());
        for block in &blocks {
            checksum = checksum.wrapping_mul(31).wrapping_add(block.iter().step_by(251).map(|&b| u64::from(b)).sum());
        }
        // Free every other block, then allocate larger ones in their place.
        let mut kept: Vec<Vec<u8>> = blocks.into_iter().step_by(2).collect();
        kept.push(vec![7u8; 1 << 20]);
        checksum = checksum.wrapping_add(kept.iter().map(|b| b.len() as u64).sum());
    }
    let mut map = BTreeMap::new();
    for i in 0..20_000u32 {
        map.insert(i.wrapping_mul(2_654_435_761), i);
    }
    let total: u64 = map.values().map(|&v| u64::from(v)).sum();
    println!("peak live bytes per round: {peak}");
    println!("checksum: {checksum}");
    println!("map: {} entries, sum {total}", map.len());
}
