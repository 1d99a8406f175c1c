//! The numeric instructions, each listed once with its semantics: the IR instructions,
//! their translation from wasm operators, the handler families that run them, the fused
//! compare-and-branch and in-place handlers and the tables that lowering picks handlers
//! from are all generated from [`for_each_numeric!`], so adding an operation is one row.
//!
//! The list is a macro that invokes a callback with all its sections; a consumer that needs
//! one section takes it with [`numeric_section!`].

/// Calls `$cb!` with the numeric instructions, in sections (`name { rows }`), after the
/// tokens `$pre` if given. The sections and their rows:
///
/// - `int_cmp`, the integer comparisons:
///   `Cmp name (negated, swapped): i32 operand type, i64 operand type => semantics;`.
///   `Cmp` is the variant of `lower::tables::Cmp` and the suffix of the `I32`/`I64`
///   instructions (`I32LtS`); `name` is the suffix of the handler names (`i32_lt_s`,
///   `BR_I64_LT_S_IMM`); `negated` is the comparison `!(x op y)`, `swapped` the one
///   `y op' x` equal to `x op y`.
/// - `int_binop`, the integer binary operations that cannot trap:
///   `Op name [commutative, in memory]: i32 type => semantics, i64 type => semantics;`.
///   `Op` is the suffix of the `I32`/`I64` instructions (`I32ShrU`), `name` that of the
///   handler names (`i64_shr_u_imm`); `in memory` says whether there are handlers that
///   update memory in place with it (`mem_update!`).
/// - `float_cmp`, the float comparisons:
///   `Instr name [with immediate]: type => holds, fails;`: `holds` is the comparison,
///   `fails` its negation (which differs from the opposite comparison on NaN), for the
///   fused branches taken when it does not hold.
/// - `float_binop`, the float binary operations:
///   `Instr name [commutative, with immediate]: operand type => semantics;`.
/// - `binary_trap`: `Instr name: operand type => semantics;`, the semantics a
///   `Result<_, TrapCode>`.
/// - `unary`: `Instr name: operand type => semantics;`, and `unary_trap` those that can
///   trap (a `Result<_, TrapCode>`).
///
/// `Instr` is the IR instruction and, with the same name, the wasm operator it translates;
/// `name` names its handler (`f64_add`, family `F64_ADD`), with an immediate operand
/// (`f64_add_imm`), and its fused branches (`br_f64_lt`, `br_not_f64_lt`). `with immediate`
/// says whether there is a handler of the operation with a constant operand.
macro_rules! for_each_numeric {
    ($cb:ident $(, $($pre:tt)*)?) => {
        $cb! { $($($pre)*)?
            int_cmp {
                Eq eq (Ne, Eq): u32, u64 => |x, y| x == y;
                Ne ne (Eq, Ne): u32, u64 => |x, y| x != y;
                LtS lt_s (GeS, GtS): i32, i64 => |x, y| x < y;
                LtU lt_u (GeU, GtU): u32, u64 => |x, y| x < y;
                GtS gt_s (LeS, LtS): i32, i64 => |x, y| x > y;
                GtU gt_u (LeU, LtU): u32, u64 => |x, y| x > y;
                LeS le_s (GtS, GeS): i32, i64 => |x, y| x <= y;
                LeU le_u (GtU, GeU): u32, u64 => |x, y| x <= y;
                GeS ge_s (LtS, LeS): i32, i64 => |x, y| x >= y;
                GeU ge_u (LtU, LeU): u32, u64 => |x, y| x >= y;
            }
            int_binop {
                Add add [true, true]: u32 => |x, y| x.wrapping_add(y), u64 => |x, y| x.wrapping_add(y);
                Sub sub [false, true]: u32 => |x, y| x.wrapping_sub(y), u64 => |x, y| x.wrapping_sub(y);
                Mul mul [true, false]: u32 => |x, y| x.wrapping_mul(y), u64 => |x, y| x.wrapping_mul(y);
                And and [true, true]: u32 => |x, y| x & y, u64 => |x, y| x & y;
                Or or [true, true]: u32 => |x, y| x | y, u64 => |x, y| x | y;
                Xor xor [true, true]: u32 => |x, y| x ^ y, u64 => |x, y| x ^ y;
                Shl shl [false, false]: u32 => |x, y| x.wrapping_shl(y), u64 => |x, y| x.wrapping_shl(y as u32);
                ShrS shr_s [false, false]: i32 => |x, y| x.wrapping_shr(y as u32), i64 => |x, y| x.wrapping_shr(y as u32);
                ShrU shr_u [false, false]: u32 => |x, y| x.wrapping_shr(y), u64 => |x, y| x.wrapping_shr(y as u32);
                Rotl rotl [false, false]: u32 => |x, y| x.rotate_left(y % 32), u64 => |x, y| x.rotate_left((y % 64) as u32);
                Rotr rotr [false, false]: u32 => |x, y| x.rotate_right(y % 32), u64 => |x, y| x.rotate_right((y % 64) as u32);
            }
            float_cmp {
                F32Eq f32_eq [false]: f32 => |x, y| x == y, |x, y| x != y;
                F32Ne f32_ne [false]: f32 => |x, y| x != y, |x, y| x == y;
                F32Lt f32_lt [false]: f32 => |x, y| x < y, |x, y| x.partial_cmp(&y) != Some(Less);
                F32Gt f32_gt [false]: f32 => |x, y| x > y, |x, y| x.partial_cmp(&y) != Some(Greater);
                F32Le f32_le [false]: f32 => |x, y| x <= y, |x, y| !matches!(x.partial_cmp(&y), Some(Less | Equal));
                F32Ge f32_ge [false]: f32 => |x, y| x >= y, |x, y| !matches!(x.partial_cmp(&y), Some(Greater | Equal));
                F64Eq f64_eq [false]: f64 => |x, y| x == y, |x, y| x != y;
                F64Ne f64_ne [false]: f64 => |x, y| x != y, |x, y| x == y;
                F64Lt f64_lt [true]: f64 => |x, y| x < y, |x, y| x.partial_cmp(&y) != Some(Less);
                F64Gt f64_gt [true]: f64 => |x, y| x > y, |x, y| x.partial_cmp(&y) != Some(Greater);
                F64Le f64_le [true]: f64 => |x, y| x <= y, |x, y| !matches!(x.partial_cmp(&y), Some(Less | Equal));
                F64Ge f64_ge [true]: f64 => |x, y| x >= y, |x, y| !matches!(x.partial_cmp(&y), Some(Greater | Equal));
            }
            float_binop {
                F32Add f32_add [true, true]: f32 => |x, y| x + y;
                F32Sub f32_sub [false, true]: f32 => |x, y| x - y;
                F32Mul f32_mul [true, true]: f32 => |x, y| x * y;
                F32Div f32_div [false, true]: f32 => |x, y| x / y;
                F32Min f32_min [true, false]: f32 => |x, y| num::f32_min(x, y);
                F32Max f32_max [true, false]: f32 => |x, y| num::f32_max(x, y);
                F32Copysign f32_copysign [false, false]: u32 => |x, y| (x & !num::F32_SIGN) | (y & num::F32_SIGN);
                F64Add f64_add [true, true]: f64 => |x, y| x + y;
                F64Sub f64_sub [false, true]: f64 => |x, y| x - y;
                F64Mul f64_mul [true, true]: f64 => |x, y| x * y;
                F64Div f64_div [false, true]: f64 => |x, y| x / y;
                F64Min f64_min [true, false]: f64 => |x, y| num::f64_min(x, y);
                F64Max f64_max [true, false]: f64 => |x, y| num::f64_max(x, y);
                F64Copysign f64_copysign [false, false]: u64 => |x, y| (x & !num::F64_SIGN) | (y & num::F64_SIGN);
            }
            binary_trap {
                I32DivS i32_div_s: i32 => |x, y| match (x, y) {
                    (_, 0) => Err(TrapCode::IntegerDivisionByZero),
                    (i32::MIN, -1) => Err(TrapCode::IntegerOverflow),
                    _ => Ok(x / y),
                };
                I32DivU i32_div_u: u32 => |x, y| x.checked_div(y).ok_or(TrapCode::IntegerDivisionByZero);
                I32RemS i32_rem_s: i32 => |x, y| if y == 0 { Err(TrapCode::IntegerDivisionByZero) } else { Ok(x.wrapping_rem(y)) };
                I32RemU i32_rem_u: u32 => |x, y| x.checked_rem(y).ok_or(TrapCode::IntegerDivisionByZero);
                I64DivS i64_div_s: i64 => |x, y| match (x, y) {
                    (_, 0) => Err(TrapCode::IntegerDivisionByZero),
                    (i64::MIN, -1) => Err(TrapCode::IntegerOverflow),
                    _ => Ok(x / y),
                };
                I64DivU i64_div_u: u64 => |x, y| x.checked_div(y).ok_or(TrapCode::IntegerDivisionByZero);
                I64RemS i64_rem_s: i64 => |x, y| if y == 0 { Err(TrapCode::IntegerDivisionByZero) } else { Ok(x.wrapping_rem(y)) };
                I64RemU i64_rem_u: u64 => |x, y| x.checked_rem(y).ok_or(TrapCode::IntegerDivisionByZero);
            }
            unary {
                I32Eqz i32_eqz: u32 => |x| x == 0;
                I32Clz i32_clz: u32 => |x| x.leading_zeros();
                I32Ctz i32_ctz: u32 => |x| x.trailing_zeros();
                I32Popcnt i32_popcnt: u32 => |x| x.count_ones();
                I64Eqz i64_eqz: u64 => |x| x == 0;
                I64Clz i64_clz: u64 => |x| u64::from(x.leading_zeros());
                I64Ctz i64_ctz: u64 => |x| u64::from(x.trailing_zeros());
                I64Popcnt i64_popcnt: u64 => |x| u64::from(x.count_ones());
                RefIsNull ref_is_null: u64 => |x| x == 0;
                // An `i31ref` is its value shifted left by one with the low bit set
                // (`I31::to_ref_bits`): `i31.get_s` is then an arithmetic shift back.
                RefI31 ref_i31: u32 => |x| (x << 1) | 1;

                F32Abs f32_abs: u32 => |x| x & !num::F32_SIGN;
                F32Neg f32_neg: u32 => |x| x ^ num::F32_SIGN;
                F32Ceil f32_ceil: f32 => |x| num::f32_round(x, f32::ceil);
                F32Floor f32_floor: f32 => |x| num::f32_round(x, f32::floor);
                F32Trunc f32_trunc: f32 => |x| num::f32_round(x, f32::trunc);
                F32Nearest f32_nearest: f32 => |x| num::f32_round(x, f32::round_ties_even);
                F32Sqrt f32_sqrt: f32 => |x| x.sqrt();
                F64Abs f64_abs: u64 => |x| x & !num::F64_SIGN;
                F64Neg f64_neg: u64 => |x| x ^ num::F64_SIGN;
                F64Ceil f64_ceil: f64 => |x| num::f64_round(x, f64::ceil);
                F64Floor f64_floor: f64 => |x| num::f64_round(x, f64::floor);
                F64Trunc f64_trunc: f64 => |x| num::f64_round(x, f64::trunc);
                F64Nearest f64_nearest: f64 => |x| num::f64_round(x, f64::round_ties_even);
                F64Sqrt f64_sqrt: f64 => |x| x.sqrt();

                I32WrapI64 i32_wrap_i64: u64 => |x| x as u32;
                I64ExtendI32S i64_extend_i32_s: i32 => |x| i64::from(x);
                I64ExtendI32U i64_extend_i32_u: u32 => |x| u64::from(x);
                F32ConvertI32S f32_convert_i32_s: i32 => |x| x as f32;
                F32ConvertI32U f32_convert_i32_u: u32 => |x| x as f32;
                F32ConvertI64S f32_convert_i64_s: i64 => |x| x as f32;
                F32ConvertI64U f32_convert_i64_u: u64 => |x| x as f32;
                F32DemoteF64 f32_demote_f64: f64 => |x| x as f32;
                F64ConvertI32S f64_convert_i32_s: i32 => |x| f64::from(x);
                F64ConvertI32U f64_convert_i32_u: u32 => |x| f64::from(x);
                F64ConvertI64S f64_convert_i64_s: i64 => |x| x as f64;
                F64ConvertI64U f64_convert_i64_u: u64 => |x| x as f64;
                F64PromoteF32 f64_promote_f32: f32 => |x| f64::from(x);
                I32Extend8S i32_extend8_s: u32 => |x| x as u8 as i8 as i32;
                I32Extend16S i32_extend16_s: u32 => |x| x as u16 as i16 as i32;
                I64Extend8S i64_extend8_s: u64 => |x| x as u8 as i8 as i64;
                I64Extend16S i64_extend16_s: u64 => |x| x as u16 as i16 as i64;
                I64Extend32S i64_extend32_s: u64 => |x| x as u32 as i32 as i64;
                I32TruncSatF32S i32_trunc_sat_f32_s: f32 => |x| x as i32;
                I32TruncSatF32U i32_trunc_sat_f32_u: f32 => |x| x as u32;
                I32TruncSatF64S i32_trunc_sat_f64_s: f64 => |x| x as i32;
                I32TruncSatF64U i32_trunc_sat_f64_u: f64 => |x| x as u32;
                I64TruncSatF32S i64_trunc_sat_f32_s: f32 => |x| x as i64;
                I64TruncSatF32U i64_trunc_sat_f32_u: f32 => |x| x as u64;
                I64TruncSatF64S i64_trunc_sat_f64_s: f64 => |x| x as i64;
                I64TruncSatF64U i64_trunc_sat_f64_u: f64 => |x| x as u64;
            }
            unary_trap {
                I32TruncF32S i32_trunc_f32_s: f32 => |x| num::i32_trunc_s(f64::from(x));
                I32TruncF32U i32_trunc_f32_u: f32 => |x| num::i32_trunc_u(f64::from(x));
                I32TruncF64S i32_trunc_f64_s: f64 => |x| num::i32_trunc_s(x);
                I32TruncF64U i32_trunc_f64_u: f64 => |x| num::i32_trunc_u(x);
                I64TruncF32S i64_trunc_f32_s: f32 => |x| num::i64_trunc_s(f64::from(x));
                I64TruncF32U i64_trunc_f32_u: f32 => |x| num::i64_trunc_u(f64::from(x));
                I64TruncF64S i64_trunc_f64_s: f64 => |x| num::i64_trunc_s(x);
                I64TruncF64U i64_trunc_f64_u: f64 => |x| num::i64_trunc_u(x);
                I31GetS i31_get_s: u64 => |x| if x == 0 { Err(TrapCode::NullI31Reference) } else { Ok((x as u32 as i32) >> 1) };
                I31GetU i31_get_u: u64 => |x| if x == 0 { Err(TrapCode::NullI31Reference) } else { Ok((x as u32) >> 1) };
            }
        }
    };
}

/// Calls `$cb!` with the rows of one section of [`for_each_numeric!`]:
/// `numeric_section!(int_cmp => callback)`.
macro_rules! numeric_section {
    ($section:ident => $cb:ident) => {
        for_each_numeric! { numeric_section, @find $section $cb }
    };
    (@find int_cmp $cb:ident int_cmp { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find int_binop $cb:ident int_binop { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find float_cmp $cb:ident float_cmp { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find float_binop $cb:ident float_binop { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find binary_trap $cb:ident binary_trap { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find unary $cb:ident unary { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find unary_trap $cb:ident unary_trap { $($rows:tt)* } $($rest:tt)*) => { $cb! { $($rows)* } };
    (@find $section:ident $cb:ident $other:ident $skipped:tt $($rest:tt)*) => {
        numeric_section! { @find $section $cb $($rest)* }
    };
}

/// Calls `$cb!` with the names of every instruction of [`for_each_numeric!`] by shape,
/// after the tokens `$pre` if given: `binary { I32Add, ... } unary { I32Clz, ... }`, for
/// what only needs the instructions and their operands (`dst, a, b` or `dst, src`).
macro_rules! numeric_instrs {
    ($cb:ident $(, $($pre:tt)*)?) => {
        for_each_numeric! { numeric_instrs, @names [$cb $(, $($pre)*)?] }
    };
    (@names [$cb:ident $(, $($pre:tt)*)?]
        int_cmp { $( $cmp:ident $c_op:ident ($neg:ident, $swap:ident): $ct32:ty, $ct64:ty => |$cx:ident, $cy:ident| $ce:expr; )* }
        int_binop { $( $bin:ident $b_op:ident [$comm:literal, $in_mem:tt]: $bt32:ty => |$bx:ident, $by:ident| $be32:expr, $bt64:ty => |$bx2:ident, $by2:ident| $be64:expr; )* }
        float_cmp { $( $fc:ident $fc_op:ident [$fc_imm:tt]: $fct:ty => |$fcx:ident, $fcy:ident| $fce:expr, |$fcnx:ident, $fcny:ident| $fcne:expr; )* }
        float_binop { $( $fb:ident $fb_op:ident [$fb_comm:tt, $fb_imm:tt]: $fbt:ty => |$fbx:ident, $fby:ident| $fbe:expr; )* }
        binary_trap { $( $bt:ident $bt_op:ident: $btt:ty => |$btx:ident, $bty:ident| $bte:expr; )* }
        unary { $( $un:ident $un_op:ident: $unt:ty => |$unx:ident| $une:expr; )* }
        unary_trap { $( $ut:ident $ut_op:ident: $utt:ty => |$utx:ident| $ute:expr; )* }
    ) => {
        pastey::paste! {
            $cb! { $($($pre)*)?
                binary {
                    $( [<I32 $cmp>], [<I64 $cmp>], )*
                    $( [<I32 $bin>], [<I64 $bin>], )*
                    $( $fc, )*
                    $( $fb, )*
                    $( $bt, )*
                }
                unary {
                    $( $un, )*
                    $( $ut, )*
                }
            }
        }
    };
}
