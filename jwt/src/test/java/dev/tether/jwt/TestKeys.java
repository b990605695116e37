package dev.tether.jwt;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.InvalidAlgorithmParameterException;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;

/** Keys generated once per test JVM. */
final class TestKeys {

    static final byte[] HMAC_SECRET = "0123456789abcdef0123456789abcdef-test-only".getBytes(StandardCharsets.US_ASCII);
    static final KeyPair RSA = generateRsa();
    static final KeyPair RSA_OTHER = generateRsa();
    static final KeyPair EC = generateEc();

    private TestKeys() {
    }

    static RSAPrivateKey rsaPrivate() {
        return (RSAPrivateKey) RSA.getPrivate();
    }

    static RSAPublicKey rsaPublic() {
        return (RSAPublicKey) RSA.getPublic();
    }

    static ECPrivateKey ecPrivate() {
        return (ECPrivateKey) EC.getPrivate();
    }

    static ECPublicKey ecPublic() {
        return (ECPublicKey) EC.getPublic();
    }

    private static KeyPair generateRsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair generateEc() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (NoSuchAlgorithmException | InvalidAlgorithmParameterException e) {
            throw new IllegalStateException(e);
        }
    }
}
