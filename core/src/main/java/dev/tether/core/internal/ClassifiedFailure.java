package dev.tether.core.internal;

import dev.tether.core.Verdict;

/** Carries a failure and its verdict into Resilience4j's retry context, which computes the delay. */
final class ClassifiedFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Verdict verdict;

    ClassifiedFailure(Verdict verdict, Throwable cause) {
        super(cause.toString(), cause, false, false);
        this.verdict = verdict;
    }

    Verdict verdict() {
        return verdict;
    }
}
