package dev.tether.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Proves that a builder's copy ({@code toBuilder()}) carries every field: each field of the
 * original is set to a value no fresh builder holds, then the copy must hold the same value. A field
 * added to a builder later and forgotten in its copy fails the test that calls this.
 */
public final class BuilderCopies {

    private BuilderCopies() {
    }

    /**
     * @param original a builder, changed in place by this method
     * @param copy     makes the copy, e.g. {@code b -> b.build().toBuilder()}
     * @param leaveAlone fields not to change (e.g. one of two settings that exclude each other)
     * @param <B>      the builder type
     * @return the names of the fields that were changed and compared
     */
    public static <B> List<String> assertCopiesEveryField(B original, UnaryOperator<B> copy, String... leaveAlone) {
        return assertCopiesEveryField(original, copy, Map.of(), leaveAlone);
    }

    /**
     * @param original   a builder, changed in place by this method
     * @param copy       makes the copy, e.g. {@code b -> b.build().toBuilder()}
     * @param values     values to set for field types this class cannot make a different value of
     *                   (final classes), each different from the builder's default
     * @param leaveAlone fields not to change (e.g. one of two settings that exclude each other)
     * @param <B>        the builder type
     * @return the names of the fields that were changed and compared
     */
    public static <B> List<String> assertCopiesEveryField(B original, UnaryOperator<B> copy, Map<Class<?>, Object> values,
                                                          String... leaveAlone) {
        List<String> untouched = List.of(leaveAlone);
        List<String> checked = new ArrayList<>();
        List<String> unchangeable = new ArrayList<>();
        Field[] fields = original.getClass().getDeclaredFields();
        for (Field f : fields) {
            if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
                continue;
            }
            f.setAccessible(true);
            try {
                if (Modifier.isFinal(f.getModifiers()) || untouched.contains(f.getName())) {
                    unchangeable.add(f.getName());
                    continue;
                }
                Object changed = values.containsKey(f.getType()) ? values.get(f.getType())
                        : changedValue(f.getType(), f.get(original));
                if (changed == null) {
                    unchangeable.add(f.getName());
                    continue;
                }
                f.set(original, changed);
                checked.add(f.getName());
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        B copied = copy.apply(original);
        for (Field f : fields) {
            if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
                continue;
            }
            try {
                Object want = f.get(original);
                Object got = f.get(copied);
                if (checked.contains(f.getName())) {
                    assertThat(got).as("field %s of %s is carried by the copy", f.getName(), original.getClass().getName())
                            .isEqualTo(want);
                } else if (want instanceof List<?> list) {
                    assertThat(got).as("list field %s is carried by the copy", f.getName()).isEqualTo(list);
                }
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        assertThat(checked).as("fields changed and compared (not comparable: %s)", unchangeable).isNotEmpty();
        return checked;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object changedValue(Class<?> type, Object current) {
        if (type == boolean.class) {
            return !(Boolean) current;
        }
        if (type == Boolean.class) {
            return current == null ? Boolean.TRUE : !(Boolean) current;
        }
        if (type == int.class) {
            return (Integer) current + 7;
        }
        if (type == double.class) {
            return (Double) current + 0.5;
        }
        if (type == long.class) {
            return (Long) current + 7;
        }
        if (type == Duration.class) {
            return current == null ? Duration.ofMillis(1234) : ((Duration) current).plusMillis(7);
        }
        if (type == String.class) {
            return current == null ? "changed" : current + "-changed";
        }
        if (type.isEnum()) {
            for (Object constant : type.getEnumConstants()) {
                if (constant != current) {
                    return constant;
                }
            }
            return null;
        }
        if (java.util.Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)) {
            return null;
        }
        if (type.isInterface()) {
            return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
                if (method.getName().equals("equals")) {
                    return proxy == args[0];
                }
                if (method.getName().equals("hashCode")) {
                    return System.identityHashCode(proxy);
                }
                if (method.getName().equals("toString")) {
                    return "changed " + type.getSimpleName();
                }
                if (method.isDefault()) {
                    return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
                }
                throw new UnsupportedOperationException("a stand-in that only proves it was copied: " + method);
            });
        }
        return null;
    }
}
