package dev.tether.mqtt;

import dev.tether.core.FailureClassifier;
import dev.tether.core.Verdict;
import java.time.Duration;
import java.util.Optional;

/**
 * The default verdicts for MQTT failures: the CONNACK table and server DISCONNECTs. The client's
 * connector uses {@link #connack()} as its protocol classifier; user classifiers set on the builder
 * are consulted first.
 *
 * <table>
 * <caption>CONNACK verdicts</caption>
 * <tr><th>verdict</th><th>3.1.1 return codes</th><th>5 reason codes</th></tr>
 * <tr><td>retry with backoff</td><td>3</td><td>0x88; 0x89 and 0x97 (at least {@link #BUSY_MIN_DELAY});
 *     0x9F (at least {@link #RATE_LIMIT_MIN_DELAY}); 0x80, 0x83 and unknown codes (at most
 *     {@link #UNSPECIFIED_MAX_CONSECUTIVE} in a row)</td></tr>
 * <tr><td>refresh credentials, then retry</td><td>4, 5</td><td>0x86, 0x87, 0x8C</td></tr>
 * <tr><td>redirect to the Server Reference</td><td></td><td>0x9C, 0x9D (retry when no reference)</td></tr>
 * <tr><td>fatal</td><td>1, 2</td><td>0x81, 0x82, 0x84, 0x85, 0x8A, 0x90, 0x95, 0x99, 0x9A, 0x9B</td></tr>
 * </table>
 *
 * <p>A version refusal (3.1.1 return code 1 or any two-byte CONNACK to an MQTT 5 CONNECT, 0x84) makes a client
 * with {@code versionFallback} (the default) connect again at once with MQTT 3.1.1 instead: the table applies to
 * what that connection gets. A failure that carries a suggested verdict (a pinned version refused, a protocol error
 * before CONNACK: {@link #BEFORE_CONNACK_PROTOCOL_ERROR}) keeps it.
 */
public final class MqttVerdicts {

    /** Least delay after "server busy" (0x89) or "quota exceeded" (0x97): 1 s. */
    public static final Duration BUSY_MIN_DELAY = Duration.ofSeconds(1);
    /** Least delay after "connection rate exceeded" (0x9F): 5 s. */
    public static final Duration RATE_LIMIT_MIN_DELAY = Duration.ofSeconds(5);
    /** How many unspecified refusals (0x80, 0x83, unknown codes) in a row are retried: 5. */
    public static final int UNSPECIFIED_MAX_CONSECUTIVE = 5;

    /** How many protocol errors before CONNACK in a row (the broker's answer to CONNECT cannot be read) are retried: 5. */
    public static final int BEFORE_CONNACK_PROTOCOL_ERROR_MAX_CONSECUTIVE = 5;

    /**
     * The verdict of a protocol error before CONNACK (a malformed or unexpected answer to CONNECT): retry, at most
     * {@link #BEFORE_CONNACK_PROTOCOL_ERROR_MAX_CONSECUTIVE} times in a row, so no incompatibility loops forever.
     */
    public static final Verdict BEFORE_CONNACK_PROTOCOL_ERROR = Verdict.retry()
            .withMaxConsecutive(BEFORE_CONNACK_PROTOCOL_ERROR_MAX_CONSECUTIVE)
            .withExplanation("the broker's answer to CONNECT cannot be understood: check that the endpoint is an MQTT broker"
                    + " and which versions it speaks");

    private static final FailureClassifier CONNACK = MqttVerdicts::classify;

    private MqttVerdicts() {
    }

    /**
     * @return the classifier for {@link MqttConnackRefusedException}s anywhere in a failure's cause
     *         chain; no opinion on other failures
     */
    public static FailureClassifier connack() {
        return CONNACK;
    }

    /**
     * @param version the protocol version of the refused CONNECT
     * @param code    the CONNACK code
     * @return the verdict of the table above, without redirect target
     */
    public static Verdict forConnack(MqttVersion version, int code) {
        String what = "the broker refused CONNECT with " + MqttConnackRefusedException.describe(version, code);
        if (version == MqttVersion.MQTT_3_1_1) {
            return switch (code) {
                case 1 -> Verdict.fatal(what + ": it does not accept MQTT 3.1.1; configure another protocol version or broker");
                case 2 -> Verdict.fatal(what + ": choose a client identifier the broker accepts");
                case 3 -> Verdict.retry().withExplanation(what);
                case 4, 5 -> Verdict.refreshCredentials().withExplanation(what);
                default -> Verdict.retry().withMaxConsecutive(UNSPECIFIED_MAX_CONSECUTIVE).withExplanation(what);
            };
        }
        return switch (code) {
            case 0x88 -> Verdict.retry().withExplanation(what);
            case 0x89, 0x97 -> Verdict.retryAfter(BUSY_MIN_DELAY).withExplanation(what);
            case 0x9F -> Verdict.retryAfter(RATE_LIMIT_MIN_DELAY).withExplanation(what);
            case 0x86, 0x87, 0x8C -> Verdict.refreshCredentials().withExplanation(what);
            case 0x81, 0x82 -> Verdict.fatal(what + ": the broker rejects what this client sent; check the client"
                    + " configuration (version, properties) against the broker");
            case 0x84 -> Verdict.fatal(what + ": the broker does not speak MQTT 5; allow versionFallback(true) or configure"
                    + " version(MQTT_3_1_1)");
            case 0x85 -> Verdict.fatal(what + ": choose a client identifier the broker accepts");
            case 0x8A -> Verdict.fatal(what + ": this client is banned; ask the broker's operator");
            case 0x90 -> Verdict.fatal(what + ": fix the Will topic");
            case 0x95 -> Verdict.fatal(what + ": the CONNECT (Will payload, properties) is too large for the broker");
            case 0x99 -> Verdict.fatal(what + ": fix the Will payload format indicator");
            case 0x9A -> Verdict.fatal(what + ": the broker does not support retained messages; clear the Will's retain flag");
            case 0x9B -> Verdict.fatal(what + ": lower the Will's QoS to the broker's maximum");
            default -> Verdict.retry().withMaxConsecutive(UNSPECIFIED_MAX_CONSECUTIVE).withExplanation(what);
        };
    }

    private static Optional<Verdict> classify(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof dev.tether.core.ConnectionFailedException cfe && cfe.suggestedVerdict().isPresent()) {
                // A failure that carries its verdict (a version refusal the client decided about) keeps it.
                return cfe.suggestedVerdict();
            }
            if (t instanceof MqttConnackRefusedException refused) {
                int code = refused.reasonCode();
                if (refused.version() == MqttVersion.MQTT_5 && (code == 0x9C || code == 0x9D)) {
                    String what = "the broker refused CONNECT with " + MqttConnackRefusedException.describe(refused.version(), code);
                    return Optional.of(refused.serverReference()
                            .map(Verdict::redirect)
                            .orElse(Verdict.retry().withMaxConsecutive(UNSPECIFIED_MAX_CONSECUTIVE)
                                    .withExplanation(what + " without a usable Server Reference")));
                }
                return Optional.of(forConnack(refused.version(), code));
            }
        }
        return Optional.empty();
    }
}
