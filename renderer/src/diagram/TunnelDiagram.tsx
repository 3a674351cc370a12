// Draws a diagram model with @xyflow/react: laid out from the model's grid, left to right where
// there is room and top to bottom in a narrow window, read-only, refitted when its box changes.
import { BaseEdge, EdgeLabelRenderer, Handle, Position, ReactFlow, getSmoothStepPath, type Edge, type EdgeProps, type Node, type NodeProps, type ReactFlowInstance } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { DiagramEdge, DiagramModel, DiagramNode } from './model.js';

/** Left to right, nodes are narrow and tall enough for a two-line status; top to bottom, wide and flat. */
const SIZE = { horizontal: { w: 164, h: 78 }, vertical: { w: 250, h: 62 } };
const GAP_ACROSS = 44;
/** Room for a two-line rate label between two nodes. */
const GAP_ALONG_H = 64;
const GAP_ALONG_V = 40;
/** Below this width a left-to-right path would shrink past reading size. */
const HORIZONTAL_MIN_WIDTH = 620;

type HopData = { node: DiagramNode; vertical: boolean };
type FlowData = { edge: DiagramEdge; vertical: boolean };
type HopFlowNode = Node<HopData, 'hop'>;
type FlowEdge = Edge<FlowData, 'flow'>;

function HopNode({ data }: NodeProps<HopFlowNode>) {
  const { node, vertical } = data;
  const [into, out] = vertical ? [Position.Top, Position.Bottom] : [Position.Left, Position.Right];
  return (
    <div className={`hop tone-${node.tone}${vertical ? ' vertical' : ''}`} data-node={node.id} data-tone={node.tone} title={node.reason}>
      <Handle type="target" position={into} id="in" isConnectable={false} />
      <Handle type="source" position={out} id="out" isConnectable={false} />
      <Handle type="target" position={out} id="in-back" isConnectable={false} />
      <Handle type="source" position={into} id="out-back" isConnectable={false} />
      <div className="hop-title">
        <span className="dot" aria-hidden="true" />
        {node.title}
      </div>
      <div className="hop-sub" title={node.subtitle}>
        {node.subtitle}
      </div>
      <div className="hop-status">{node.status}</div>
    </div>
  );
}

function FlowEdgeView({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, markerEnd }: EdgeProps<FlowEdge>) {
  const [path, labelX, labelY] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, borderRadius: 10 });
  const edge = data!.edge;
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={`flow-edge tone-${edge.tone}${edge.flowing ? ' flowing' : ''}`} />
      {edge.label && (
        <EdgeLabelRenderer>
          {/* Beside a vertical edge, on a horizontal one; the rate and the count on lines of their own. */}
          <div
            className="edge-label num"
            data-edge={edge.id}
            style={{ transform: data!.vertical ? `translate(10px, -50%) translate(${labelX}px, ${labelY}px)` : `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            {edge.label.split(' · ').map((part) => (
              <span key={part}>{part}</span>
            ))}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

const nodeTypes = { hop: HopNode };
const edgeTypes = { flow: FlowEdgeView };

function layout(model: DiagramModel, vertical: boolean): { nodes: HopFlowNode[]; edges: FlowEdge[] } {
  const { w, h } = vertical ? SIZE.vertical : SIZE.horizontal;
  const along = (col: number) => col * (vertical ? h + GAP_ALONG_V : w + GAP_ALONG_H);
  const across = (row: number) => row * (vertical ? w + GAP_ACROSS : h + GAP_ACROSS);
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const nodes = model.nodes.map<HopFlowNode>((n) => ({
    id: n.id,
    type: 'hop',
    position: vertical ? { x: across(n.row), y: along(n.col) } : { x: along(n.col), y: across(n.row) },
    data: { node: n, vertical },
    ariaRole: 'group',
    ariaLabel: `${n.title} ${n.subtitle}: ${n.status}`,
    width: w,
    height: h,
  }));
  const edges = model.edges.map<FlowEdge>((e) => {
    // -R traffic runs from the far side back towards this machine: it leaves and enters by the other handles.
    const [from, to] = [byId.get(e.source)!, byId.get(e.target)!];
    const back = from.col > to.col;
    return {
      id: e.id,
      source: e.source,
      target: e.target,
      type: 'flow',
      sourceHandle: back ? 'out-back' : 'out',
      targetHandle: back ? 'in-back' : 'in',
      data: { edge: e, vertical },
      markerEnd: 'arrow',
      ariaLabel: `${from.title} to ${to.title}${e.label ? `: ${e.label}` : ''}`,
    };
  });
  return { nodes, edges };
}

/** Only the path's shape decides whether the view is refitted; live numbers never move it. */
const shapeOf = (m: DiagramModel) => m.nodes.map((n) => `${n.id}@${n.col},${n.row}`).join(' ');

export function TunnelDiagram({ model, label }: { model: DiagramModel; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const flow = useRef<ReactFlowInstance<HopFlowNode, FlowEdge> | null>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setWidth(entry!.contentRect.width));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const vertical = width > 0 && width < HORIZONTAL_MIN_WIDTH;
  const { nodes, edges } = useMemo(() => layout(model, vertical), [model, vertical]);
  const shape = shapeOf(model);
  useEffect(() => {
    void flow.current?.fitView({ padding: 0.06, maxZoom: 1 });
  }, [shape, width, vertical]);

  const { h } = vertical ? SIZE.vertical : SIZE.horizontal;
  const height = vertical ? model.cols * (h + GAP_ALONG_V) : Math.max(model.rows, 1) * (h + GAP_ACROSS) + 24;
  return (
    <div className="diagram" ref={box} style={{ height }} role="group" aria-label={label}>
      {width > 0 && (
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onInit={(instance) => {
            flow.current = instance;
          }}
          fitView
          fitViewOptions={{ padding: 0.06, maxZoom: 1 }}
          minZoom={0.3}
          maxZoom={1}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          panOnDrag={false}
          panOnScroll={false}
          zoomOnScroll={false}
          zoomOnPinch={false}
          zoomOnDoubleClick={false}
          preventScrolling={false}
          disableKeyboardA11y
          colorMode="system"
          proOptions={{ hideAttribution: true }}
        >
          <svg className="markers" aria-hidden="true">
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head" />
              </marker>
            </defs>
          </svg>
        </ReactFlow>
      )}
    </div>
  );
}
