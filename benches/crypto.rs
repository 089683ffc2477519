//! Verify + decrypt of a 1 KiB callback message: the work every push costs.
//! Compare with `node tests/interop/wecom_crypto.js bench 5` (the official
//! `@wecom/crypto`) on the same machine.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wecom_openwork::crypto::MsgCrypt;

fn verify_and_decrypt(c: &mut Criterion) {
    let crypt = MsgCrypt::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
        .expect("valid key");
    let message = format!("<xml><Content><![CDATA[{}]]></Content></xml>", "x".repeat(1024 - 42));
    assert_eq!(message.len(), 1024);
    let sealed = crypt.encrypt(&message, "1409659813", "1372623149").expect("encrypts");
    let mut group = c.benchmark_group("callback");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify+decrypt 1 KiB", |b| {
        b.iter(|| {
            crypt
                .decrypt(&sealed.msg_signature, "1409659813", "1372623149", &sealed.encrypt)
                .expect("decrypts")
        })
    });
    group.bench_function("encrypt+sign 1 KiB", |b| {
        b.iter(|| crypt.encrypt(&message, "1409659813", "1372623149").expect("encrypts"))
    });
    group.finish();
}

criterion_group!(benches, verify_and_decrypt);
criterion_main!(benches);
