//! Exception tags (the exception handling proposal): defined, imported and exported, made
//! by the host, matched by type on import, and identities rather than values.

use wasmguard::{Config, Engine, Extern, ExternType, Linker, Module, Store, Tag, TagType, ValType};

fn engine() -> Engine {
    Engine::default()
}

const PROVIDER: &str = r#"
(module
  (tag (export "empty"))
  (tag $t (export "i32") (param i32))
  (tag (export "pair") (param i64 f32)))
"#;

#[test]
fn tags_are_exported_imported_and_typed() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let provider = Module::new(&engine, PROVIDER).unwrap();
    let types: Vec<_> = provider.exports().map(|(name, ty)| (name.to_string(), ty)).collect();
    assert_eq!(types[1], ("i32".to_string(), ExternType::Tag(TagType::new([ValType::I32]))));
    assert_eq!(types[2].1, ExternType::Tag(TagType::new([ValType::I64, ValType::F32])));

    let linker = Linker::new(&engine);
    let instance = linker.instantiate(&mut store, &provider).unwrap();
    let tag = instance.get_tag(&mut store, "i32").unwrap();
    assert_eq!(tag.ty(&store), TagType::new([ValType::I32]));
    assert_ne!(instance.get_tag(&mut store, "empty").unwrap(), tag);
    assert!(instance.get_tag(&mut store, "nothing").is_none());

    // Re-exported through another module, a tag is the same tag.
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "p", "i32", tag).unwrap();
    let relay =
        Module::new(&engine, r#"(module (import "p" "i32" (tag $t (param i32))) (export "again" (tag $t)))"#).unwrap();
    assert_eq!(relay.imports().next().unwrap().2, ExternType::Tag(TagType::new([ValType::I32])));
    let relayed = linker.instantiate(&mut store, &relay).unwrap();
    assert_eq!(relayed.get_export(&mut store, "again"), Some(Extern::Tag(tag)));

    // A tag of another type does not link.
    let wrong = Module::new(&engine, r#"(module (import "p" "i32" (tag (param i64))))"#).unwrap();
    let err = linker.instantiate(&mut store, &wrong).unwrap_err();
    assert!(err.to_string().contains("expected tag (func (param i64))"), "{err}");
}

#[test]
fn host_tags_link_and_are_distinct() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let a = Tag::new(&mut store, &TagType::new([ValType::F64])).unwrap();
    let b = Tag::new(&mut store, &TagType::new([ValType::F64])).unwrap();
    assert_ne!(a, b);
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "host", "tag", a).unwrap();
    let module = Module::new(&engine, r#"(module (import "host" "tag" (tag (param f64))))"#).unwrap();
    linker.instantiate(&mut store, &module).unwrap();

    // A tag of another store is refused.
    let mut other = Store::new(&engine, ());
    let err = linker.instantiate(&mut other, &module).unwrap_err();
    assert!(err.to_string().contains("another store"), "{err}");
}

#[test]
fn tags_need_the_exceptions_switch() {
    let mut config = Config::new();
    config.wasm_exceptions(false);
    let err = Module::new(&Engine::new(&config).unwrap(), PROVIDER).unwrap_err();
    assert!(err.to_string().contains("exceptions"), "{err}");
    Module::new(&Engine::default(), PROVIDER).unwrap();
}
