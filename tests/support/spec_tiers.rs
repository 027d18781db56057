//! The spec tests' per-tier test generator: `all_tiers! { name "FILE.wast", ... }`
//! makes one `#[test]` per file in each of the five tiers (modules
//! `baseline`, `debug`, `dynamic`, `optimized`, `mixed`), each calling the
//! including test's `crate::run_file(file, tier, strategy)`, and the list
//! `FILES` of every file. Included with
//! `#[macro_use] #[path = "support/spec_tiers.rs"] mod spec_tiers;`.

macro_rules! tier_tests {
    ($tier:ident, $strategy:expr; $($name:ident $file:literal),* $(,)?) => {
        mod $tier {
            $(
                #[test]
                fn $name() {
                    crate::run_file($file, stringify!($tier), $strategy);
                }
            )*
        }
    };
}

macro_rules! all_tiers {
    ($($name:ident $file:literal),* $(,)?) => {
        /// Every file the tests below run (in all five tiers).
        const FILES: &[&str] = &[$($file),*];

        tier_tests!(baseline, wdb::Strategy::Baseline; $($name $file),*);
        tier_tests!(debug, wdb::Strategy::Debug; $($name $file),*);
        tier_tests!(dynamic, wdb::Strategy::Dynamic; $($name $file),*);
        tier_tests!(optimized, wdb::Strategy::Optimized; $($name $file),*);
        tier_tests!(mixed, wdb::Strategy::Mixed; $($name $file),*);
    };
}
