package dev.tether.core.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Argument checks shared by the configuration builders of every Tether module.
 *
 * <p><b>Internal:</b> public only so that the other Tether modules can use it; not part of the
 * API, may change without notice.
 */
public final class Require {

    private Require() {
    }

    /**
     * @param field the setting's name, used in the message
     * @param value the value to check
     * @return {@code value}
     * @throws NullPointerException     if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public static Duration positive(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(field + " must be positive, but was " + value);
        }
        return value;
    }

    /**
     * @param field the setting's name, used in the message
     * @param value the value to check
     * @return {@code value}
     * @throws NullPointerException     if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public static Duration nonNegative(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isNegative()) {
            throw new IllegalArgumentException(field + " must not be negative, but was " + value);
        }
        return value;
    }
}
