package templates

import (
	"fmt"
	"reflect"
	"text/template"
	"text/template/parse"
)

// checkFields checks that every field t names exists in typ, its data type:
// {{.Field}} and {{.A.B}} on dot, {{$.Field}} on the data, in conditions
// and in every branch (rendering reaches only the branches its data takes).
// Inside {{with}} and {{range}}, dot is the type of the field they name;
// where that type is not known (a function's result, a variable other than
// $), fields are not checked.
func checkFields(t *template.Template, typ reflect.Type) error {
	if t.Tree == nil || typ == nil {
		return nil
	}
	c := &fieldChecker{tree: t.Tree, root: typ}
	c.walk(t.Tree.Root, typ)
	return c.err
}

type fieldChecker struct {
	tree *parse.Tree
	root reflect.Type
	err  error // the first problem
}

func (c *fieldChecker) walk(n parse.Node, dot reflect.Type) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, m := range n.Nodes {
			c.walk(m, dot)
		}
	case *parse.ActionNode:
		c.pipe(n.Pipe, dot)
	case *parse.IfNode:
		c.pipe(n.Pipe, dot)
		c.walk(n.List, dot)
		c.walk(n.ElseList, dot)
	case *parse.WithNode:
		c.pipe(n.Pipe, dot)
		c.walk(n.List, c.pipeType(n.Pipe, dot))
		c.walk(n.ElseList, dot)
	case *parse.RangeNode:
		c.pipe(n.Pipe, dot)
		c.walk(n.List, elem(c.pipeType(n.Pipe, dot)))
		c.walk(n.ElseList, dot)
	case *parse.TemplateNode:
		if n.Pipe != nil {
			c.pipe(n.Pipe, dot)
		}
	}
}

func (c *fieldChecker) pipe(p *parse.PipeNode, dot reflect.Type) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			c.argType(arg, dot)
		}
	}
}

// pipeType is the type of a pipeline that is one field (or dot, or $),
// else nil (not known).
func (c *fieldChecker) pipeType(p *parse.PipeNode, dot reflect.Type) reflect.Type {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return nil
	}
	return c.argType(p.Cmds[0].Args[0], dot)
}

// argType checks the fields of an argument and returns its type, nil when
// not known.
func (c *fieldChecker) argType(n parse.Node, dot reflect.Type) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return c.chain(n, dot, n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return c.chain(n, c.root, n.Ident[1:])
		}
	case *parse.ChainNode:
		return c.chain(n, c.argType(n.Node, dot), n.Field)
	case *parse.PipeNode:
		c.pipe(n, dot)
		return c.pipeType(n, dot)
	}
	return nil
}

// chain follows the fields idents from type t (nil: not known).
func (c *fieldChecker) chain(n parse.Node, t reflect.Type, idents []string) reflect.Type {
	for _, id := range idents {
		if t == nil {
			return nil
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if m, ok := reflect.PointerTo(t).MethodByName(id); ok && m.IsExported() {
			if m.Type.NumOut() == 0 {
				return nil
			}
			t = m.Type.Out(0)
			continue
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := t.FieldByName(id)
			if !ok || !f.IsExported() {
				c.fail(n, "can't evaluate field %s in type %s", id, t)
				return nil
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		case reflect.Interface:
			return nil
		default:
			c.fail(n, "can't evaluate field %s in type %s", id, t)
			return nil
		}
	}
	return t
}

func (c *fieldChecker) fail(n parse.Node, format string, args ...any) {
	if c.err != nil {
		return
	}
	loc, _ := c.tree.ErrorContext(n)
	c.err = fmt.Errorf("template: %s: %s", loc, fmt.Sprintf(format, args...))
}

// elem is the type of the elements {{range}} gives over a value of type t.
func elem(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return t.Elem()
	}
	return nil
}

// filled returns a value of type t whose every exported field is set: true,
// 1, "x", one element... Rendered at start-up beside the zero value, it
// takes the branches ({{if .Field}}) the zero value skips.
func filled(t reflect.Type) any {
	if t == nil {
		return nil
	}
	v := reflect.New(t).Elem()
	fill(v, 0)
	return v.Interface()
}

func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.String:
		v.SetString("x")
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	}
}
