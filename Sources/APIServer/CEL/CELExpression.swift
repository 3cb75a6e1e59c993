/// A parsed CEL expression.
public indirect enum CELExpression: Sendable {
    case literal(CELValue)
    case identifier(String)
    /// `target.field`
    case select(CELExpression, String)
    /// `has(target.field)`
    case presence(CELExpression, String)
    /// `target[index]`
    case index(CELExpression, CELExpression)
    /// `function(args)` or `target.function(args)`
    case call(String, target: CELExpression?, arguments: [CELExpression])
    case list([CELExpression])
    case map([(CELExpression, CELExpression)])
    case unary(String, CELExpression)
    case binary(String, CELExpression, CELExpression)
    case conditional(CELExpression, CELExpression, CELExpression)
    /// The macros over lists and maps: `all`, `exists`, `exists_one`, `map`, `filter`
    /// (`map` with a filter when `filter` is set).
    case comprehension(macro: String, range: CELExpression, variable: String, filter: CELExpression?, body: CELExpression)
}
