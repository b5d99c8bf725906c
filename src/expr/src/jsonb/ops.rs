//! jsonb operations on parsed values, with Postgres semantics. Errors are plain messages; the
//! UDF layer turns them into DataFusion execution errors.

use super::value::{Object, Value};

pub type OpResult<T> = std::result::Result<T, String>;

/// Resolves an array index as Postgres does: negative counts from the end.
fn resolve_index(len: usize, index: i64) -> Option<usize> {
    if index >= 0 {
        let i = usize::try_from(index).ok()?;
        (i < len).then_some(i)
    } else {
        let back = usize::try_from(index.unsigned_abs()).ok()?;
        len.checked_sub(back)
    }
}

/// `-> text`: only objects have keys.
pub fn get_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(obj) => obj.get(key),
        _ => None,
    }
}

/// `-> int`: only arrays have indexes.
pub fn get_index(v: &Value, index: i64) -> Option<&Value> {
    match v {
        Value::Array(items) => resolve_index(items.len(), index).map(|i| &items[i]),
        _ => None,
    }
}

/// `#>`: a path step is a key for objects and an integer for arrays; anything that does not
/// resolve (or a NULL step) gives NULL.
pub fn get_path<'a>(v: &'a Value, path: &[Option<String>]) -> Option<&'a Value> {
    let mut cur = v;
    for step in path {
        let step = step.as_deref()?;
        cur = match cur {
            Value::Object(obj) => obj.get(step)?,
            Value::Array(_) => get_index(cur, step.trim().parse::<i64>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// `@>`, Postgres containment.
pub fn contains(a: &Value, b: &Value) -> bool {
    contains_at(a, b, true)
}

fn contains_at(a: &Value, b: &Value, top: bool) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => y.iter().all(|(k, yv)| match x.get(k) {
            Some(xv) => match (xv, yv) {
                (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
                    contains_at(xv, yv, false)
                }
                _ => scalar_eq(xv, yv),
            },
            None => false,
        }),
        (Value::Array(xs), Value::Array(ys)) => ys.iter().all(|y| match y {
            Value::Array(_) | Value::Object(_) => xs.iter().any(|x| {
                std::mem::discriminant(x) == std::mem::discriminant(y) && contains_at(x, y, false)
            }),
            _ => xs.iter().any(|x| scalar_eq(x, y)),
        }),
        // Only a top-level array may contain a bare scalar.
        (Value::Array(xs), y) if top && y.is_scalar() => xs.iter().any(|x| scalar_eq(x, y)),
        (x, y) if x.is_scalar() && y.is_scalar() => scalar_eq(x, y),
        _ => false,
    }
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.num_eq(y),
        (Value::Array(_), _) | (Value::Object(_), _) => a == b,
        _ => a == b,
    }
}

/// `?`: a top-level key, a string array element, or the string scalar itself.
pub fn exists(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(obj) => obj.contains_key(key),
        Value::Array(items) => items
            .iter()
            .any(|i| matches!(i, Value::String(s) if s == key)),
        Value::String(s) => s == key,
        _ => false,
    }
}

/// `||`: objects merge (right wins), anything else concatenates as arrays.
pub fn concat(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y.iter() {
                x.insert(k.clone(), v.clone());
            }
            Value::Object(x)
        }
        (a, b) => {
            let mut items = match a {
                Value::Array(items) => items,
                other => vec![other],
            };
            match b {
                Value::Array(more) => items.extend(more),
                other => items.push(other),
            }
            Value::Array(items)
        }
    }
}

/// `- text`: removes a key, or the matching string elements of an array.
pub fn delete_key(v: Value, key: &str) -> OpResult<Value> {
    match v {
        Value::Object(mut obj) => {
            obj.remove(key);
            Ok(Value::Object(obj))
        }
        Value::Array(mut items) => {
            items.retain(|i| !matches!(i, Value::String(s) if s == key));
            Ok(Value::Array(items))
        }
        _ => Err("cannot delete from scalar".into()),
    }
}

/// `- int`
pub fn delete_index(v: Value, index: i64) -> OpResult<Value> {
    match v {
        Value::Array(mut items) => {
            if let Some(i) = resolve_index(items.len(), index) {
                items.remove(i);
            }
            Ok(Value::Array(items))
        }
        Value::Object(_) => Err("cannot delete from object using integer index".into()),
        _ => Err("cannot delete from scalar".into()),
    }
}

fn path_index(step: &str, pos: usize) -> OpResult<i64> {
    step.trim()
        .parse::<i64>()
        .map_err(|_| format!("path element at position {pos} is not an integer: \"{step}\""))
}

/// `#-`: removes the element at a path; a path that does not resolve changes nothing.
pub fn delete_path(v: Value, path: &[Option<String>]) -> OpResult<Value> {
    if v.is_scalar() {
        return Err("cannot delete path in scalar".into());
    }
    if path.is_empty() {
        return Ok(v);
    }
    let mut v = v;
    delete_path_at(&mut v, path, 1)?;
    Ok(v)
}

fn delete_path_at(v: &mut Value, path: &[Option<String>], pos: usize) -> OpResult<()> {
    let Some((step, rest)) = path.split_first() else {
        return Ok(());
    };
    let step = step
        .as_deref()
        .ok_or_else(|| format!("path element at position {pos} is null"))?;
    match v {
        Value::Object(obj) => {
            if rest.is_empty() {
                obj.remove(step);
            } else if let Some(child) = obj.get_mut(step) {
                delete_path_at(child, rest, pos + 1)?;
            }
        }
        Value::Array(items) => {
            let index = path_index(step, pos)?;
            if let Some(i) = resolve_index(items.len(), index) {
                if rest.is_empty() {
                    items.remove(i);
                } else {
                    delete_path_at(&mut items[i], rest, pos + 1)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `jsonb_set(target, path, new_value, create_if_missing)`.
pub fn set_path(v: Value, path: &[Option<String>], new: Value, create: bool) -> OpResult<Value> {
    if v.is_scalar() {
        return Err("cannot set path in scalar".into());
    }
    let mut v = v;
    set_path_at(&mut v, path, new, create, 1)?;
    Ok(v)
}

fn set_path_at(
    v: &mut Value,
    path: &[Option<String>],
    new: Value,
    create: bool,
    pos: usize,
) -> OpResult<()> {
    let Some((step, rest)) = path.split_first() else {
        return Ok(());
    };
    let step = step
        .as_deref()
        .ok_or_else(|| format!("path element at position {pos} is null"))?;
    match v {
        Value::Object(obj) => {
            if rest.is_empty() {
                if create || obj.contains_key(step) {
                    obj.insert(step.to_string(), new);
                }
            } else if let Some(child) = obj.get_mut(step) {
                set_path_at(child, rest, new, create, pos + 1)?;
            }
        }
        Value::Array(items) => {
            let index = path_index(step, pos)?;
            match resolve_index(items.len(), index) {
                Some(i) => {
                    if rest.is_empty() {
                        items[i] = new;
                    } else {
                        set_path_at(&mut items[i], rest, new, create, pos + 1)?;
                    }
                }
                // Out of range with creation on: before the start or after the end.
                None if rest.is_empty() && create => {
                    if index < 0 {
                        items.insert(0, new);
                    } else {
                        items.push(new);
                    }
                }
                None => {}
            }
        }
        _ => {}
    }
    Ok(())
}

/// `jsonb_strip_nulls`: drops object fields whose value is null, at every depth; array
/// elements stay.
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            obj.retain(|(_, item)| !matches!(item, Value::Null));
            obj.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The rows of `jsonb_each`.
pub fn each(v: &Value) -> OpResult<Vec<(String, Value)>> {
    match v {
        Value::Object(obj) => Ok(obj.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        other => Err(format!(
            "cannot deconstruct {} as an object",
            article(other)
        )),
    }
}

/// The rows of `jsonb_array_elements`.
pub fn elements(v: &Value) -> OpResult<&[Value]> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Object(_) => Err("cannot extract elements from an object".into()),
        _ => Err("cannot extract elements from a scalar".into()),
    }
}

/// The rows of `jsonb_object_keys`.
pub fn object_keys(v: &Value) -> OpResult<Vec<String>> {
    match v {
        Value::Object(obj) => Ok(obj.keys().cloned().collect()),
        Value::Array(_) => Err("cannot call jsonb_object_keys on an array".into()),
        _ => Err("cannot call jsonb_object_keys on a scalar".into()),
    }
}

fn article(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        _ => "a scalar",
    }
}

pub fn array_length(v: &Value) -> OpResult<i32> {
    match v {
        Value::Array(items) => i32::try_from(items.len()).map_err(|_| "array too long".to_string()),
        Value::Object(_) => Err("cannot get array length of a non-array".into()),
        _ => Err("cannot get array length of a scalar".into()),
    }
}

/// Builds an object from `(key, value)` pairs as `jsonb_build_object` and `jsonb_object_agg`
/// do: later duplicates win.
pub fn object_from_pairs(pairs: Vec<(String, Value)>) -> Value {
    Value::Object(Object::from_entries(pairs))
}
