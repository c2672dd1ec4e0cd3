//! GF(2^8) with the Rijndael polynomial x^8 + x^4 + x^3 + x + 1 (SLIP-0039 "Shamir's secret
//! sharing"), and Lagrange interpolation over it.
//!
//! Every operation on share bytes runs in time independent of their values: no lookup tables
//! indexed by a secret (the log/exp tables most implementations use leak the secret byte
//! through the cache), no branch on a secret bit. Share indices (the x coordinates) are public
//! and are treated as such.

use zeroize::Zeroizing;

/// a * b in GF(2^8), by shift-and-add with masks instead of branches.
pub(crate) fn mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut product) = (a, b, 0u8);
    for _ in 0..8 {
        // All ones when b's low bit is set, else zero.
        product ^= a & (b & 1).wrapping_neg();
        let carry = (a >> 7).wrapping_neg();
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// 1 / a for a != 0 (a^254, by a fixed chain of squarings and multiplications); 0 for 0.
pub(crate) fn inverse(a: u8) -> u8 {
    // 254 = 0b11111110: a^2 * a^4 * ... * a^128.
    let mut square = mul(a, a);
    let mut result = square;
    for _ in 0..6 {
        square = mul(square, square);
        result = mul(result, square);
    }
    result
}

/// One point of a polynomial per byte position: f_k(x) = y[k] for every k.
pub(crate) struct Point<'a> {
    pub x: u8,
    pub y: &'a [u8],
}

/// f(x) for the polynomials through `points` (distinct x, equal lengths: the caller checks).
///
/// SLIP-0039 "Shamir's secret sharing": Lagrange interpolation, f(x) = sum over i of
/// y_i * prod over j != i of (x - x_j) / (x_i - x_j); subtraction is XOR in GF(2^8).
pub(crate) fn interpolate(points: &[Point<'_>], x: u8) -> Zeroizing<Vec<u8>> {
    let len = points.first().map_or(0, |p| p.y.len());
    if let Some(p) = points.iter().find(|p| p.x == x) {
        return Zeroizing::new(p.y.to_vec());
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    for (i, pi) in points.iter().enumerate() {
        // The basis coefficient depends only on the public x coordinates.
        let mut numerator = 1u8;
        let mut denominator = 1u8;
        for (j, pj) in points.iter().enumerate() {
            if i != j {
                numerator = mul(numerator, x ^ pj.x);
                denominator = mul(denominator, pi.x ^ pj.x);
            }
        }
        let basis = mul(numerator, inverse(denominator));
        for (o, y) in out.iter_mut().zip(pi.y) {
            *o ^= mul(*y, basis);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook multiplication, with branches, to check the masked one against.
    fn slow_mul(a: u8, b: u8) -> u8 {
        let mut r = 0u16;
        for i in 0..8 {
            if b >> i & 1 == 1 {
                r ^= u16::from(a) << i;
            }
        }
        for bit in (8..16).rev() {
            if r >> bit & 1 == 1 {
                r ^= 0x11b << (bit - 8);
            }
        }
        r as u8
    }

    #[test]
    fn multiplication_and_inverse_over_the_whole_field() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(mul(a, b), slow_mul(a, b), "{a} * {b}");
            }
            if a != 0 {
                assert_eq!(mul(a, inverse(a)), 1, "1/{a}");
            }
        }
        // FIPS 197 section 4.2: {57} * {83} = {c1}.
        assert_eq!(mul(0x57, 0x83), 0xc1);
        assert_eq!(inverse(0), 0);
    }

    #[test]
    fn interpolation_returns_the_polynomial() {
        // f(x) = 7 + 3x + 5x^2 at x = 1, 2, 9; f(0) must come back.
        let f = |x: u8| 7 ^ mul(3, x) ^ mul(5, mul(x, x));
        let ys: Vec<[u8; 1]> = [1u8, 2, 9].iter().map(|&x| [f(x)]).collect();
        let points: Vec<Point<'_>> = [1u8, 2, 9]
            .iter()
            .zip(&ys)
            .map(|(&x, y)| Point { x, y })
            .collect();
        assert_eq!(interpolate(&points, 0).as_slice(), &[7]);
        assert_eq!(interpolate(&points, 200).as_slice(), &[f(200)]);
        assert_eq!(interpolate(&points, 2).as_slice(), &[f(2)]);
    }
}
