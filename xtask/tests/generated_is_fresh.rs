//! The checked-in generated code (atdata-api's types, the client's namespaced methods, codegen's
//! edge cases) and the generated feature blocks are exactly what atdata-codegen makes of the
//! lexicons today. If this fails, regenerate with `cargo run -p xtask -- regen`.

#[test]
fn checked_in_generated_code_is_fresh() {
    let stale = xtask::stale(&xtask::workspace()).expect("generation succeeds");
    assert!(
        stale.is_empty(),
        "{} generated files are out of date (first: {:?}); run `cargo run -p xtask -- regen`",
        stale.len(),
        stale.first()
    );
}

#[test]
fn generation_is_deterministic() {
    let catalog = xtask::official_catalog(&xtask::workspace()).expect("official lexicons load");
    // Unformatted, to compare the generator's own output twice without rustfmt in between.
    let generator = xtask::api(&catalog).rustfmt(false);
    assert_eq!(
        generator.generate().expect("first"),
        generator.generate().expect("second")
    );
    let services = xtask::client_services(&catalog).rustfmt(false);
    assert_eq!(
        services.generate_services().expect("first"),
        services.generate_services().expect("second")
    );
}

#[test]
fn client_features_pass_through_to_the_api() {
    let catalog = xtask::official_catalog(&xtask::workspace()).expect("official lexicons load");
    let api = xtask::api(&catalog)
        .rustfmt(false)
        .generate()
        .expect("generate");
    let block = xtask::client_features_toml(&api);
    assert!(
        block.contains("com-atproto = [\"atdata-api/com-atproto\"]"),
        "{block}"
    );
    assert!(
        block.contains("app-bsky = [\"com-atproto\", \"atdata-api/app-bsky\"]"),
        "{block}"
    );
}
