package dev.tether.core;

import static dev.tether.core.internal.Require.nonNegative;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * What to do about a failure: retry, refresh credentials then retry, go to another endpoint, or stop.
 *
 * <p>Immutable. A verdict can demand a minimum delay before the next attempt (for example
 * "connection rate exceeded" or an HTTP {@code Retry-After}) and can cap how many times in a row
 * it may be retried (for example an unspecified server error).
 */
public final class Verdict {

    /** The four kinds of verdict. */
    public enum Kind {
        /** Try again with backoff. */
        RETRY,
        /** The peer refused the credentials: ask the provider for new ones, then retry with backoff. */
        REFRESH_CREDENTIALS_THEN_RETRY,
        /** Retry against another endpoint (MQTT 5 Server Reference, HTTP redirect). */
        REDIRECT,
        /** Retrying cannot help: the lifecycle ends with an error that says why. */
        FATAL
    }

    private static final Verdict RETRY = new Verdict(Kind.RETRY, Duration.ZERO, null, 0, "retry");
    private static final Verdict REFRESH = new Verdict(Kind.REFRESH_CREDENTIALS_THEN_RETRY, Duration.ZERO, null, 0,
            "refresh credentials, then retry");

    private final Kind kind;
    private final Duration minimumDelay;
    private final @Nullable Endpoint redirect;
    private final int maxConsecutive;
    private final String explanation;

    private Verdict(Kind kind, Duration minimumDelay, @Nullable Endpoint redirect, int maxConsecutive, String explanation) {
        this.kind = kind;
        this.minimumDelay = minimumDelay;
        this.redirect = redirect;
        this.maxConsecutive = maxConsecutive;
        this.explanation = explanation;
    }

    /** @return retry with the normal backoff */
    public static Verdict retry() {
        return RETRY;
    }

    /**
     * @param minimumDelay the least time to wait before the next attempt
     * @return retry, waiting at least {@code minimumDelay}
     * @throws IllegalArgumentException if the delay is negative
     */
    public static Verdict retryAfter(Duration minimumDelay) {
        return new Verdict(Kind.RETRY, nonNegative("minimumDelay", minimumDelay), null, 0, "retry after at least " + minimumDelay.toMillis() + " ms");
    }

    /** @return refresh the credentials, then retry with the normal backoff */
    public static Verdict refreshCredentials() {
        return REFRESH;
    }

    /**
     * @param target the endpoint the peer pointed to
     * @return retry against {@code target}
     */
    public static Verdict redirect(Endpoint target) {
        return new Verdict(Kind.REDIRECT, Duration.ZERO, Objects.requireNonNull(target, "target"), 0, "redirect to " + target);
    }

    /**
     * @param explanation what happened and what the user should do, shown in the terminal error
     * @return stop: retrying cannot help
     */
    public static Verdict fatal(String explanation) {
        return new Verdict(Kind.FATAL, Duration.ZERO, null, 0, Objects.requireNonNull(explanation, "explanation"));
    }

    /**
     * @param minimumDelay the least time to wait before the next attempt
     * @return a copy demanding at least this delay
     */
    public Verdict withMinimumDelay(Duration minimumDelay) {
        return new Verdict(kind, nonNegative("minimumDelay", minimumDelay), redirect, maxConsecutive, explanation);
    }

    /**
     * @param max how many failures with this verdict in a row are retried before giving up (at least 1)
     * @return a copy with the cap
     */
    public Verdict withMaxConsecutive(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maxConsecutive must be >= 1, but was " + max);
        }
        return new Verdict(kind, minimumDelay, redirect, max, explanation);
    }

    /**
     * @param explanation a human explanation of the verdict
     * @return a copy with the explanation
     */
    public Verdict withExplanation(String explanation) {
        return new Verdict(kind, minimumDelay, redirect, maxConsecutive, Objects.requireNonNull(explanation, "explanation"));
    }

    /** @return the kind of verdict */
    public Kind kind() {
        return kind;
    }

    /** @return the least delay before the next attempt; zero when the backoff alone decides */
    public Duration minimumDelay() {
        return minimumDelay;
    }

    /** @return the endpoint to go to, for {@link Kind#REDIRECT} */
    public Optional<Endpoint> redirectTarget() {
        return Optional.ofNullable(redirect);
    }

    /** @return how many failures with this verdict in a row may be retried, if capped */
    public OptionalInt maxConsecutive() {
        return maxConsecutive == 0 ? OptionalInt.empty() : OptionalInt.of(maxConsecutive);
    }

    /** @return a human explanation */
    public String explanation() {
        return explanation;
    }

    /** @return whether the verdict allows another attempt */
    public boolean isRetryable() {
        return kind != Kind.FATAL;
    }


    @Override
    public boolean equals(Object o) {
        return o instanceof Verdict v && kind == v.kind && minimumDelay.equals(v.minimumDelay)
                && Objects.equals(redirect, v.redirect) && maxConsecutive == v.maxConsecutive
                && explanation.equals(v.explanation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, minimumDelay, redirect, maxConsecutive, explanation);
    }

    @Override
    public String toString() {
        return kind + (minimumDelay.isZero() ? "" : " (min " + minimumDelay.toMillis() + " ms)")
                + (redirect == null ? "" : " -> " + redirect)
                + (maxConsecutive == 0 ? "" : " (max " + maxConsecutive + " in a row)");
    }
}
