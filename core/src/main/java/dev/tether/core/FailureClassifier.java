package dev.tether.core;

import java.util.Objects;
import java.util.Optional;

/**
 * Maps a failure to a {@link Verdict}. Pluggable: connectors bring protocol defaults (CONNACK
 * codes, close codes, HTTP statuses) and users can put their own rules in front of them.
 *
 * <p>A classifier may have no opinion ({@link Optional#empty()}); the engine then asks the next
 * one, and in the end applies {@link #defaults()}.
 */
@FunctionalInterface
public interface FailureClassifier {

    /**
     * @param failure why an attempt failed or a session ended
     * @return the verdict, or empty when this classifier has no opinion
     */
    Optional<Verdict> classify(Throwable failure);

    /**
     * @param fallback asked when this classifier has no opinion
     * @return a classifier trying this one first, then {@code fallback}
     */
    default FailureClassifier orElse(FailureClassifier fallback) {
        Objects.requireNonNull(fallback, "fallback");
        return failure -> {
            Optional<Verdict> v = classify(failure);
            return v.isPresent() ? v : fallback.classify(failure);
        };
    }

    /**
     * The protocol-free defaults: a failure that carries its own verdict
     * ({@link ConnectionFailedException#suggestedVerdict()}) gets it, an {@link Error} or a
     * configuration problem ({@link IllegalArgumentException}, {@link IllegalStateException}) is
     * fatal, and every other failure (I/O, timeouts, resets) is retried.
     *
     * @return the default classifier; it always has an opinion
     */
    static FailureClassifier defaults() {
        return DefaultClassifier.INSTANCE;
    }
}

/** Package-private holder so the lambda is created once. */
final class DefaultClassifier {
    static final FailureClassifier INSTANCE = failure -> {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof ConnectionFailedException cfe && cfe.suggestedVerdict().isPresent()) {
                return cfe.suggestedVerdict();
            }
        }
        if (failure instanceof Error) {
            return Optional.of(Verdict.fatal("a JVM error occurred: " + failure));
        }
        if (failure instanceof IllegalArgumentException || failure instanceof IllegalStateException) {
            return Optional.of(Verdict.fatal("the connection is misconfigured: " + failure.getMessage()));
        }
        if (failure instanceof NullPointerException || failure instanceof ClassCastException
                || failure instanceof IndexOutOfBoundsException || failure instanceof UnsupportedOperationException
                || failure instanceof ArithmeticException) {
            return Optional.of(Verdict.fatal("a programming error in a connector or credentials provider ("
                    + failure.getClass().getSimpleName() + "): retrying would repeat it; report it with the stack trace"));
        }
        return Optional.of(Verdict.retry());
    };

    private DefaultClassifier() {
    }
}
