package dev.tether.jwt;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Untrusted input: mutated and crafted tokens are refused with an {@link InvalidJwtException},
 * never with another exception, and nothing but the genuine token is accepted.
 */
class JwtVerifierRobustnessTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final int MUTATIONS = 5_000;
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"";

    private final JwtVerifier rsa = JwtVerifier.builder().publicKey(TestKeys.rsaPublic()).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
    private final JwtVerifier hmac = JwtVerifier.builder().hmacSecret(TestKeys.HMAC_SECRET).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();

    @Test
    void mutatedTokensAreRefusedWithAReasonAndNothingElse() {
        String rsToken = JwtSigner.builder().rs256(TestKeys.rsaPrivate()).subject("s").build().sign(NOW);
        String hsToken = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).subject("s").build().sign(NOW);
        Random random = new Random(20260301L);
        Map<InvalidJwtException.Reason, Integer> reasons = new EnumMap<>(InvalidJwtException.Reason.class);
        for (int i = 0; i < MUTATIONS; i++) {
            boolean useRsa = (i & 1) == 0;
            String original = useRsa ? rsToken : hsToken;
            String mutated = mutate(original, random);
            if (mutated.equals(original)) {
                continue;
            }
            try {
                (useRsa ? rsa : hmac).verify(mutated);
                // Base64url has slack bits in the last character: only an equivalent encoding may pass.
                assertThat(Base64.getUrlDecoder().decode(lastPart(mutated))).isEqualTo(Base64.getUrlDecoder().decode(lastPart(original)));
            } catch (InvalidJwtException e) {
                reasons.merge(e.reason(), 1, Integer::sum);
                assertThat(e.getMessage()).doesNotContain(lastPart(original));
            } catch (RuntimeException e) {
                throw new AssertionError("mutation " + i + " escaped as " + e, e);
            }
        }
        assertThat(reasons).containsKeys(InvalidJwtException.Reason.MALFORMED, InvalidJwtException.Reason.BAD_SIGNATURE,
                InvalidJwtException.Reason.TRUNCATED);
    }

    @Test
    void craftedHostileInputIsRefusedAsMalformed() {
        String deepHeader = b64("{\"alg\":\"RS256\",\"x\":" + "[".repeat(5000));
        String bigNumbers = b64("{\"alg\":\"RS256\",\"x\":1" + "0".repeat(3000) + "}");
        String[] inputs = {
                deepHeader + ".e30." + "A".repeat(342),
                b64("{\"alg\":\"RS256\"}") + "." + b64("[" .repeat(4000)) + "." + "A".repeat(342),
                bigNumbers + ".e30.AAAA",
                "....", ".", "a..b", "e30.e30.e30", b64("null") + ".e30.AA", b64("{\"alg\":5}") + ".e30.AA",
                b64("{\"alg\":\"RS256\",\"crit\":[\"exp\"]}") + ".e30." + "A".repeat(342),
                "\u0000\u0001\u0002", "Bearer abc", "\ud800.\udc00.x",
        };
        for (String input : inputs) {
            try {
                rsa.verify(input);
                throw new AssertionError("accepted hostile input");
            } catch (InvalidJwtException e) {
                assertThat(e.reason()).as(input.length() > 40 ? input.substring(0, 40) : input)
                        .isIn(InvalidJwtException.Reason.MALFORMED, InvalidJwtException.Reason.TRUNCATED,
                                InvalidJwtException.Reason.BAD_SIGNATURE, InvalidJwtException.Reason.ALGORITHM_NOT_ALLOWED);
            }
        }
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String lastPart(String token) {
        return token.substring(token.lastIndexOf('.') + 1);
    }

    private static String mutate(String token, Random random) {
        StringBuilder sb = new StringBuilder(token);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && sb.length() > 0; e++) {
            int pos = random.nextInt(sb.length());
            switch (random.nextInt(5)) {
                case 0 -> sb.setCharAt(pos, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 1 -> sb.deleteCharAt(pos);
                case 2 -> sb.insert(pos, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 3 -> sb.setLength(pos);
                default -> sb.insert(pos, '.');
            }
        }
        return sb.toString();
    }
}
