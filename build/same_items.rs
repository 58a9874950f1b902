//! Whether two targets' bindgen outputs declare the same items with the
//! same ABI (part of build.rs, with the `bindgen` feature), which is what
//! lets one committed file serve several targets.
//!
//! Texts differ where the ABI does not: glibc declares the EPOLL* flags in
//! an enum typed `c_uint`, musl as macros typed `u32`; parameter names and
//! typedef names differ between libcs. So both outputs are reduced to their
//! ABI: each constant's value and integer type, each struct's and union's
//! `repr` and field types, each function's link name and parameter and
//! return types, and each layout test (sizes, alignments, offsets), with
//! every typedef resolved to what it names and every fixed-width C integer
//! type to its Rust integer.

use std::collections::BTreeMap;
use syn::visit_mut::{self, VisitMut};
use syn::{ForeignItem, Item, Type};

/// The items of `committed` that `other` lacks or declares with another
/// ABI, one line each; empty if `other`'s headers agree on every item.
/// Items only `other` has do not matter: the committed file never
/// mentions them.
pub fn differences(committed: &str, other: &str) -> Result<Vec<String>, String> {
    let committed = abi_items(committed)?;
    let other = abi_items(other)?;
    Ok(committed
        .iter()
        .filter_map(|(name, abi)| match other.get(name) {
            None => Some(format!("{name}: missing")),
            Some(theirs) if theirs != abi => Some(format!("{name}: `{abi}` vs `{theirs}`")),
            Some(_) => None,
        })
        .collect())
}

/// Each item's ABI, keyed by its kind and name.
fn abi_items(text: &str) -> Result<BTreeMap<String, String>, String> {
    let file = syn::parse_file(text).map_err(|e| format!("bindgen output does not parse: {e}"))?;
    let aliases: BTreeMap<String, Type> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Type(alias) => Some((alias.ident.to_string(), (*alias.ty).clone())),
            _ => None,
        })
        .collect();
    let mut resolver = Resolver { aliases: &aliases };
    let mut items = BTreeMap::new();
    for mut item in file.items {
        resolver.visit_item_mut(&mut item);
        match item {
            Item::Const(constant) if constant.ident == "GENERATED_FROM" => {}
            Item::Const(constant) => {
                let abi = format!(
                    "{}: {} = {}",
                    constant.ident,
                    tokens(&constant.ty),
                    tokens(&constant.expr)
                );
                items.insert(format!("const {}", constant.ident), abi);
            }
            Item::Struct(record) => {
                let fields: Vec<String> = record.fields.iter().map(|f| tokens(&f.ty)).collect();
                let abi = format!("{} {{ {} }}", repr(&record.attrs), fields.join(", "));
                items.insert(format!("struct {}", record.ident), abi);
            }
            Item::Union(union) => {
                let fields: Vec<String> =
                    union.fields.named.iter().map(|f| tokens(&f.ty)).collect();
                let abi = format!("{} {{ {} }}", repr(&union.attrs), fields.join(", "));
                items.insert(format!("union {}", union.ident), abi);
            }
            Item::ForeignMod(block) => {
                for foreign in block.items {
                    if let ForeignItem::Fn(function) = foreign {
                        let sig = &function.sig;
                        let params: Vec<String> = sig
                            .inputs
                            .iter()
                            .map(|input| match input {
                                syn::FnArg::Typed(param) => tokens(&param.ty),
                                syn::FnArg::Receiver(_) => "self".to_string(),
                            })
                            .collect();
                        let link_name = function
                            .attrs
                            .iter()
                            .find(|attr| attr.path().is_ident("link_name"))
                            .map(tokens)
                            .unwrap_or_default();
                        let abi = format!(
                            "{link_name} fn({}{}) {}",
                            params.join(", "),
                            if sig.variadic.is_some() { ", ..." } else { "" },
                            tokens(&sig.output)
                        );
                        items.insert(format!("fn {}", sig.ident), abi);
                    }
                }
            }
            // bindgen's layout tests (below Rust 1.77, `#[test]` functions).
            Item::Fn(test) => {
                items.insert(
                    format!("layout test {}", test.sig.ident),
                    tokens(&test.block),
                );
            }
            // Typedefs are resolved into their uses; `Default` impls and
            // derives are no part of the ABI.
            _ => {}
        }
    }
    Ok(items)
}

fn tokens(item: &impl quote::ToTokens) -> String {
    item.to_token_stream().to_string()
}

/// The `#[repr(..)]` attributes: C layout, packing, alignment.
fn repr(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("repr"))
        .map(tokens)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Replaces typedef names by what they name and fixed-width C integer
/// types by Rust's, everywhere types appear.
struct Resolver<'a> {
    aliases: &'a BTreeMap<String, Type>,
}

impl VisitMut for Resolver<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty {
            let last = path.path.segments.last().map(|s| s.ident.to_string());
            let single = path.qself.is_none() && path.path.segments.len() == 1;
            if let Some(name) = last {
                if let Some(target) = self.aliases.get(&name).filter(|_| single) {
                    *ty = target.clone();
                    return self.visit_type_mut(ty);
                }
                let fixed = match name.as_str() {
                    "c_schar" => Some("i8"),
                    "c_uchar" => Some("u8"),
                    "c_short" => Some("i16"),
                    "c_ushort" => Some("u16"),
                    "c_int" => Some("i32"),
                    "c_uint" => Some("u32"),
                    "c_longlong" => Some("i64"),
                    "c_ulonglong" => Some("u64"),
                    _ => None,
                };
                if let Some(fixed) = fixed {
                    *ty = syn::parse_str(fixed).expect("a Rust integer type parses");
                    return;
                }
            }
        }
        visit_mut::visit_type_mut(self, ty);
    }
}
