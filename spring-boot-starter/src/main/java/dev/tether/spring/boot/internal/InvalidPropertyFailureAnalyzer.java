package dev.tether.spring.boot.internal;

import dev.tether.spring.boot.InvalidTetherPropertyException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains an {@link InvalidTetherPropertyException}: the property, the bad value, what would be valid. */
public final class InvalidPropertyFailureAnalyzer extends AbstractFailureAnalyzer<InvalidTetherPropertyException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidTetherPropertyException cause) {
        String value = cause.value().isEmpty() ? "(not set)" : "'" + cause.value() + "'";
        String description = "Tether cannot build a connection from its properties.\n\n    Property: " + cause.property()
                + "\n    Value: " + value + "\n    Expected: " + cause.valid();
        String action = "Set " + cause.property() + " in the application's configuration to a valid value: " + cause.valid();
        return new FailureAnalysis(description, action, cause);
    }
}
