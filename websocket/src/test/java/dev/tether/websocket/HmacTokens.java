package dev.tether.websocket;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** A tiny signed-token scheme for tests: {@code base64url(subject|expiryMillis).base64url(HMAC-SHA256)}. */
final class HmacTokens {

    /** What a valid token proves. */
    record Claims(String subject, Instant expiresAt) {
    }

    private final byte[] key;

    HmacTokens(String key) {
        this.key = key.getBytes(StandardCharsets.UTF_8);
    }

    String issue(String subject, Instant expiresAt) {
        String body = Base64.getUrlEncoder().withoutPadding()
                .encodeToString((subject + "|" + expiresAt.toEpochMilli()).getBytes(StandardCharsets.UTF_8));
        return body + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac(body));
    }

    Claims verify(String token) {
        int dot = token.indexOf('.');
        if (dot < 0) {
            throw new IllegalArgumentException("malformed token " + token);
        }
        String body = token.substring(0, dot);
        byte[] sig;
        try {
            sig = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed signature in " + token);
        }
        if (!MessageDigest.isEqual(sig, mac(body))) {
            throw new IllegalArgumentException("bad signature on " + token);
        }
        String[] parts = new String(Base64.getUrlDecoder().decode(body), StandardCharsets.UTF_8).split("\\|");
        Instant exp = Instant.ofEpochMilli(Long.parseLong(parts[1]));
        if (!exp.isAfter(Instant.now())) {
            throw new IllegalArgumentException("expired at " + exp);
        }
        return new Claims(parts[0], exp);
    }

    private byte[] mac(String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(body.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
