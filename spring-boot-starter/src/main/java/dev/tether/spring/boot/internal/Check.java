package dev.tether.spring.boot.internal;

import dev.tether.spring.boot.InvalidTetherPropertyException;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Applies one property to a builder and turns the builder's refusal into an {@link InvalidTetherPropertyException}. */
final class Check {

    private Check() {
    }

    /**
     * @param property the full property name
     * @param value    the bound value (shown in the failure)
     * @param action   what to do with it
     */
    static void apply(String property, @Nullable Object value, Runnable action) {
        get(property, value, () -> {
            action.run();
            return Boolean.TRUE;
        });
    }

    /**
     * @param property the full property name
     * @param value    the bound value (shown in the failure)
     * @param action   what to do with it
     * @param <T>      the result type
     * @return the action's result
     */
    static <T> T get(String property, @Nullable Object value, Supplier<T> action) {
        try {
            return action.get();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidTetherPropertyException(property, show(value), String.valueOf(e.getMessage()));
        }
    }

    /**
     * @param property the full property name
     * @param valid    what would be valid
     * @return the failure for a required property that is missing
     */
    static InvalidTetherPropertyException missing(String property, String valid) {
        return new InvalidTetherPropertyException(property, "", "required: " + valid);
    }

    /** @return a value as the failure shows it: durations as Spring writes them */
    static String show(@Nullable Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof Duration d) {
            return d.toString();
        }
        return String.valueOf(value);
    }
}
